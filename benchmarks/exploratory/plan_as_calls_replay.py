"""Would taking the plan's lines as the calls (`take_planned_calls`) pass where the run's calls did? (development
analysis)

    PYTHONPATH=src python benchmarks/exploratory/plan_as_calls_replay.py runs/DIR [runs/DIR2 ...]

For every rixin BFCL item of the run that logged a plan, takes the plan's counted lines (today's rules, with the
tools' hints) and, where `take_planned_calls` would act on them — two or more lines calling one tool, each written
out in full and valid against its schema — passes them through what the engine does after any call stage
(optional values nobody gave dropped, calls resting on such values dropped, exact repeats dropped) and judges them
with the bench's checker. Prints, per category, how often the taken plan and the run's own calls pass or fail, and
the items where they differ. Runs made with `take_planned_calls` on took the plan already: their verdicts agree by
construction; replay runs made before it.
"""

from __future__ import annotations

import collections
import sys

from logged_plans import logged_plans

from rixin.bench.checker import Call, check_item
from rixin.calling.grounding import Context, check_grounding, drop_ungrounded_optional
from rixin.calling.plan import ToolHints, counted_plan_lines, planned_arguments, planned_tool
from rixin.tools import as_tools

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")


def main(runs: list[str]) -> None:
    for run in runs:
        stats: collections.Counter[tuple[str, str]] = collections.Counter()
        differ: list[str] = []
        for logged in logged_plans(run, CATEGORIES):
            item = logged.item
            if item.gold is None:
                continue
            tools = {t.name: t for t in as_tools(item.tools())}
            hints = ToolHints.of(list(tools.values()), tools_apart=True, options_apart=True)
            lines = counted_plan_lines(logged.plan, logged.request, hints=hints)
            names = {planned_tool(line, tools) for line in lines}
            arguments = [planned_arguments(line) for line in lines]
            if len(lines) < 2 or len(names) != 1 or None in names or any(a is None for a in arguments):
                stats[(item.category, "not taken")] += 1
                continue
            tool = tools[names.pop() or ""]
            if any(tool.validate_arguments(a or {}) for a in arguments):
                stats[(item.category, "not taken (invalid)")] += 1
                continue
            context = Context(logged.request)
            calls: list[Call] = []
            for found in arguments:
                kept = drop_ungrounded_optional(found or {}, tool.parameters, context)
                call = Call(tool.name, kept)
                if not check_grounding(kept, tool.parameters, context).missing and call not in calls:
                    calls.append(call)
            verdict = check_item(item.category, calls, item.functions, item.gold)
            run_passed = bool(logged.result["passed"])
            stats[(item.category, f"taken {_word(verdict.passed)}, run {_word(run_passed)}")] += 1
            if verdict.passed != run_passed:
                differ.append(f"    {item.id}: taken {_word(verdict.passed)} ({verdict.error_code}), run {_word(run_passed)}")
        print(run)
        for category in CATEGORIES:
            for (name, outcome), count in sorted(stats.items()):
                if name == category:
                    print(f"  {category:18} {outcome:28} {count:3}")
        print("  where they differ:", *differ, sep="\n")


def _word(passed: bool) -> str:
    return "passes" if passed else "fails"


if __name__ == "__main__":
    main(sys.argv[1:])
