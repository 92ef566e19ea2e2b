"""The items of a finished run whose raw output logged a plan, shared by the plan replays in this folder.

The engine logs its stages separated by "\\n---\\n" (decide, plan, call); an item with fewer than three stages
made no plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rixin.bench.bfcl import BfclItem, load_category


@dataclass(frozen=True)
class LoggedPlan:
    item: BfclItem
    result: dict[str, Any]  # the run's items.jsonl line
    stages: list[str]  # decide, plan, call
    request: str  # the user's messages, joined

    @property
    def plan(self) -> str:
        return self.stages[1]


def logged_plans(run: str, categories: tuple[str, ...]) -> Iterator[LoggedPlan]:
    """Yield the rixin items of `run` in `categories` that logged a plan, in the run's order."""
    items = {item.id: item for category in categories for item in load_category(category)}
    for line in Path(run, "items.jsonl").read_text(encoding="utf-8").splitlines():
        result = json.loads(line)
        item = items.get(result["id"])
        if result.get("system", "rixin") != "rixin" or item is None:
            continue
        stages = result["raw_output"].split("\n---\n")
        if len(stages) >= 3:
            request = "\n".join(m["content"] for m in item.messages if m["role"] == "user")
            yield LoggedPlan(item, result, stages, request)
