"""Would restricting the call to the tools the plan's counted lines name have helped? (development analysis)

    python benchmarks/exploratory/plan_tools_replay.py runs/DIR [runs/DIR2 ...]

For every rixin BFCL item of the run whose raw output holds a plan (stages separated by "\\n---\\n": decide,
plan, call), takes the plan's counted lines (`counted_plan_lines`, as the engine counts them) and the tools they
name (`name(`). Compares that set with the gold calls' functions and with what the run called, per category:
- named: items where every counted line names a known tool (the restriction would apply);
- gold_inside: of those, the gold functions are all among the named ones (the restriction cannot exclude them);
- fixes: the run called a function outside the gold set, and the gold set is inside the named one;
- breaks: the run passed, and called a function the named set lacks.
For irrelevance items (no gold call), counts the passed items whose plan names tools and where `plan_fallback`
would act: the call the run dropped used none of the named tools.
"""

from __future__ import annotations

import collections
import re
import sys

from logged_plans import logged_plans

from rixin.calling.plan import counted_plan_lines, planned_tool

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")


def main(runs: list[str]) -> None:
    for run in runs:
        stats: collections.Counter[tuple[str, str]] = collections.Counter()
        for logged in logged_plans(run, CATEGORIES):
            item, result, stages, request = logged.item, logged.result, logged.stages, logged.request
            names = {tool["function"]["name"] for tool in item.tools()}
            stats[(item.category, "planned")] += 1
            lines = counted_plan_lines(stages[1], request)
            named = [planned_tool(line, names) for line in lines]
            if not lines or None in named:
                continue
            allowed = set(named)
            if item.gold is None:
                stats[(item.category, "named")] += 1
                dropped = set(re.findall(r'"name": "([^"]+)"', stages[2]))
                stats[(item.category, "passed_named")] += result["passed"]
                stats[(item.category, "fallback_acts")] += result["passed"] and bool(dropped) and not dropped & allowed
                continue
            gold = {name for call in item.gold for name in call}
            called = {call["name"] for call in result["calls"]}
            stats[(item.category, "named")] += 1
            stats[(item.category, "gold_inside")] += gold <= allowed
            stats[(item.category, "fixes")] += bool(called - gold) and gold <= allowed
            stats[(item.category, "breaks")] += result["passed"] and not called <= allowed
        print(run)
        for category in CATEGORIES:
            keys: tuple[str, ...] = ("planned", "named", "gold_inside", "fixes", "breaks")
            if category == "irrelevance":
                keys = ("planned", "named", "passed_named", "fallback_acts")
            print(f"  {category:18} " + "  ".join(f"{k} {stats[(category, k)]:3}" for k in keys))


if __name__ == "__main__":
    main(sys.argv[1:])
