"""Would dropping exact repeats within one reply (same tool, same arguments) have helped? (development analysis)

    python benchmarks/exploratory/duplicate_calls_replay.py runs/DIR [runs/DIR2 ...]

BFCL items are one reply each, so re-judging a run's calls with the repeats dropped is exactly what the engine
would have returned (grounding judges each call alone). Prints, per category, the items whose calls hold a
repeat, how many pass as run, and how many pass with the repeats dropped; and every item that changes.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

from rixin.bench.bfcl import load_category
from rixin.bench.checker import Call, check_item

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")


def unique(calls: list[Call]) -> list[Call]:
    seen: set[str] = set()
    kept = []
    for call in calls:
        key = json.dumps([call.name, call.arguments], sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(call)
    return kept


def main(runs: list[str]) -> None:
    items = {item.id: item for category in CATEGORIES for item in load_category(category)}
    for run in runs:
        stats: collections.Counter[tuple[str, str]] = collections.Counter()
        changes = []
        for line in Path(run, "items.jsonl").read_text(encoding="utf-8").splitlines():
            result = json.loads(line)
            item = items.get(result["id"])
            if item is None:
                continue
            calls = [Call(c["name"], c["arguments"]) for c in result["calls"]]
            kept = unique(calls)
            if len(kept) == len(calls):
                continue
            after = check_item(item.category, kept, item.functions, item.gold).passed
            stats[(item.category, "repeats")] += 1
            stats[(item.category, "passed")] += result["passed"]
            stats[(item.category, "passed_without")] += after
            if after != result["passed"]:
                changes.append(f"    {result['id']}: {'fixed' if after else 'broken'}")
        print(run)
        for category in CATEGORIES:
            counts = "  ".join(f"{key} {stats[(category, key)]:3}" for key in ("repeats", "passed", "passed_without"))
            print(f"  {category:18} {counts}")
        print("\n".join(changes))


if __name__ == "__main__":
    main(sys.argv[1:])
