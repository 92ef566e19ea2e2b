"""How would today's plan counting count the plans a finished run logged? (development analysis)

    python benchmarks/exploratory/plan_count_replay.py runs/DIR [runs/DIR2 ...]

For every rixin BFCL item of the run whose raw output holds a plan (the stages are logged separated by
"\\n---\\n": decide, plan, call), re-counts the plan with `count_planned_calls` — with and without
`plan_combinations` — and with the tool hints of `plan_tools_apart` and `plan_options_apart`, each alone and both, and
compares the count with the number of gold calls. Prints, per category, how many plans
count right, over, under, or not at all (None: the count is left to the model). The logged plans were cut
where the engine of that run stopped them, so a rule that would have let a plan go on is under-estimated.
"""

from __future__ import annotations

import collections
import sys

from logged_plans import logged_plans

from rixin.calling.plan import ToolHints, count_planned_calls
from rixin.tools import as_tools

RULES = ("values", "combinations", "+tools_apart", "+options_apart", "+both")

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")


def main(runs: list[str]) -> None:
    for run in runs:
        stats: collections.Counter[tuple[str, str, str]] = collections.Counter()
        changed: list[str] = []
        for logged in logged_plans(run, CATEGORIES):
            item = logged.item
            if item.gold is None:
                continue
            tools = as_tools(item.tools())
            hints = {
                "+tools_apart": ToolHints.of(tools, tools_apart=True, options_apart=False),
                "+options_apart": ToolHints.of(tools, tools_apart=False, options_apart=True),
                "+both": ToolHints.of(tools, tools_apart=True, options_apart=True),
            }
            counts = {}
            for rule in RULES:
                combinations = rule != "values"
                count = count_planned_calls(
                    logged.plan, logged.request, combinations=combinations, hints=hints.get(rule)
                )
                counts[rule] = count
                gold = len(item.gold)
                verdict = "none" if count is None else "right" if count == gold else "over" if count > gold else "under"
                stats[(item.category, rule, verdict)] += 1
            if counts["+both"] != counts["combinations"]:
                passed = "passed" if logged.result["passed"] else "failed"
                changed.append(
                    f"    {item.id}: gold {len(item.gold)}, "
                    + ", ".join(f"{r} {counts[r]}" for r in RULES[1:])
                    + f" ({passed})"
                )
        print(run)
        for category in CATEGORIES:
            for rule in RULES:
                row = {v: stats[(category, rule, v)] for v in ("right", "over", "under", "none")}
                if any(row.values()):
                    print(f"  {category:18} {rule:13} " + "  ".join(f"{k} {n:3}" for k, n in row.items()))
        print("  counted otherwise with the tool hints (the run's verdict):", *changed, sep="\n")


if __name__ == "__main__":
    main(sys.argv[1:])
