"""Re-judge a finished run's BFCL items on calls a rule keeps (shared by the replay scripts here).

A BFCL item is one turn, so judging the calls a rule would have kept with the bench's checker is what the rule
would score on the same model outputs.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rixin.bench.bfcl import BfclItem, load_category
from rixin.bench.checker import Call, check_item

Keep = Callable[[dict[str, Any], BfclItem], list[Call]]
"""A rule: the calls it keeps of a logged row (its "calls", "raw_output" …) for the item."""


def replay_bfcl(folders: list[str], keep: Keep, *, label_by_folder: bool = False) -> None:
    """Print each item whose verdict the rule changes ("fixed"/"LOST", labelled by its category or its run folder),
    then accuracy before → after per category."""
    before: collections.Counter[str] = collections.Counter()
    after: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    items: dict[str, dict[str, BfclItem]] = {}
    for folder in folders:
        for line in Path(folder, "items.jsonl").read_text().splitlines():
            row = json.loads(line)
            category = row["category"]
            if row.get("system", "rixin") != "rixin" or category.startswith("exec"):
                continue
            if category not in items:
                items[category] = {i.id: i for i in load_category(category)}
            item = items[category][row["id"]]
            kept = keep(row, item)
            verdict = check_item(category, kept, item.functions, item.gold)
            total[category] += 1
            before[category] += row["passed"]
            after[category] += verdict.passed
            if verdict.passed != row["passed"]:
                change = "fixed" if verdict.passed else "LOST"
                label = folder if label_by_folder else f"{category:18}"
                print(f"{change:5} {label} {row['id']:24} kept {len(kept)} of {len(row['calls'])} calls")
    for category in sorted(total):
        n = total[category]
        print(f"{category:18} n={n:3}  {before[category] / n:6.1%} -> {after[category] / n:6.1%}")
