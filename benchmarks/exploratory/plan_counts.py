"""Each logged plan's count under the plan rules of the code on PYTHONPATH (development analysis)

    PYTHONPATH=OLD/src python benchmarks/exploratory/plan_counts.py runs/DIR > old.txt
    PYTHONPATH=NEW/src python benchmarks/exploratory/plan_counts.py runs/DIR > new.txt
    diff old.txt new.txt

Prints, per rixin BFCL item that logged a plan: the run, the item, the gold number of calls, today's
`count_planned_calls` (None: the count is left to the model) and whether the plan's last finished line stalls it
(`plan_stalled`: the engine stopped the plan there). Two versions of rixin's plan rules, diffed, give the items a
rule change acts on: a count that differs, or a plan that would have gone on (which only a re-run can judge).
"""

from __future__ import annotations

import sys

from logged_plans import logged_plans

from rixin.calling.plan import count_planned_calls, plan_stalled

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")


def main(runs: list[str]) -> None:
    for run in runs:
        for logged in logged_plans(run, CATEGORIES):
            if logged.item.gold is None:
                continue
            lines = logged.plan.split("\n")
            finished = [line for line in (lines[:-1] if lines[-1].strip() else lines) if line.strip()]
            count = count_planned_calls(logged.plan, logged.request)
            stalled = plan_stalled(finished, logged.request)
            print(run, logged.item.id, len(logged.item.gold), count, stalled)


if __name__ == "__main__":
    main(sys.argv[1:])
