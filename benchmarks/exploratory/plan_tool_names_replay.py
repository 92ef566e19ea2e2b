"""Tried and not adopted: counting a plan line's tool name as one of its values (development analysis)

    python benchmarks/exploratory/plan_tool_names_replay.py runs/DIR [runs/DIR2 ...]

The 0.5B under-counts parallel_multiple requests like "the lowest price … and the average price … in Austin": its
plan has `lowest_price("Austin", …)` then `average_price("Austin", …)`, and the second line's grounded values are
all the first's, so it does not count. This replays the plans a run logged (like plan_count_replay.py) under
variants of the counting rule that live only here:
- combinations: today's rule (rixin.calling.plan);
- +tool names: a line that calls a tool by name holds the name as one more value;
- +named tools: only names of tools the request names by a word no other tool's name has;
- +named/passed: and lines calling a tool whose own words the request lacks do not count.
Prints right / over / under / none per category against the gold number of calls.
"""

from __future__ import annotations

import collections
import re
import sys
from collections.abc import Collection

from logged_plans import logged_plans

from rixin.calling.plan import grounded, plan_values, planned_tool

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")
_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_GENERIC = frozenset(
    "get set find calculate calc compute search fetch list create update delete make check run info details data "
    "by the of and to for from in on with all new api".split()
)


def named_tools(tools: list[str], request: str) -> tuple[set[str], set[str]]:
    """Tools the request names by a word of their own, and tools with words of their own the request lacks."""
    words = {t: {p.lower() for p in _PARTS.findall(t) if len(p) >= 3} - _GENERIC for t in tools}
    named, passed_over = set(), set()
    for tool, own in words.items():
        distinct = own - set().union(*(w for t, w in words.items() if t != tool))
        if any(re.search(rf"(?<!\w){re.escape(word)}", request.lower()) for word in distinct):
            named.add(tool)
        elif distinct:
            passed_over.add(tool)
    return named, passed_over


def count(plan: str, request: str, tools: Collection[str] = (), passed_over: Collection[str] = ()) -> int | None:
    """rixin.calling.plan's combination rule, with tool names as values and passed-over lines skipped."""
    counted: list[set[str]] = []
    for line in plan.splitlines():
        values = {v.lower() for v in plan_values(line) if grounded(v, request)}
        if not values or (passed_over and planned_tool(line, passed_over)):
            continue
        tool = planned_tool(line, tools) if tools else None
        if tool:
            values.add("\0" + tool)
        fresh = not any(values <= earlier for earlier in counted)
        if fresh and values <= set().union(*counted):
            fresh = sum(values > earlier for earlier in counted) < 2
        if fresh:
            counted.append(values)
    return len(counted) or None


def main(runs: list[str]) -> None:
    for run in runs:
        stats: collections.Counter[tuple[str, str, str]] = collections.Counter()
        for logged in logged_plans(run, CATEGORIES):
            item, request, plan = logged.item, logged.request, logged.plan
            if item.gold is None:
                continue
            names = [tool["function"]["name"] for tool in item.tools()]
            named, passed_over = named_tools(names, request)
            variants = {
                "combinations": count(plan, request),
                "+tool names": count(plan, request, names),
                "+named tools": count(plan, request, named),
                "+named/passed": count(plan, request, named, passed_over),
            }
            for rule, planned in variants.items():
                gold = len(item.gold)
                verdict = (
                    "none" if planned is None else "right" if planned == gold else "over" if planned > gold else "under"
                )
                stats[(item.category, rule, verdict)] += 1
        print(run)
        for category in CATEGORIES:
            for rule in ("combinations", "+tool names", "+named tools", "+named/passed"):
                row = {v: stats[(category, rule, v)] for v in ("right", "over", "under", "none")}
                if any(row.values()):
                    print(f"  {category:18} {rule:14} " + "  ".join(f"{k} {n:3}" for k, n in row.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
