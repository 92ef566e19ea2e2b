"""What would today's post-processing rules, together and in the engine's order, change in finished runs?
(development analysis; exact for BFCL items, which are one turn)

    python benchmarks/exploratory/composed_replay.py runs/DIR [runs/DIR2 ...]

Applies to each logged row's calls what the engine applies after generating them: numbers folded into strings taken
off (`unfold_values`), lists of enum choices cut to those the conversation names (`ground_option_lists`), one
clause's calls kept to one tool (`one_tool_per_clause`), then fan-out over listed values (`fan_out_lists`), each as
its own replay script does; re-judges with the bench's
checker and prints the items that change and accuracy before → after per category. For a run made before those
rules, this is what the run would score on the same model outputs with them.
"""

from __future__ import annotations

import sys
from typing import Any

from bfcl_replay import replay_bfcl
from fan_out_replay import fanned
from one_tool_replay import kept
from option_list_replay import trimmed
from unfold_replay import unfolded

from rixin.bench.bfcl import BfclItem
from rixin.bench.checker import Call


def _as_row(row: dict[str, Any], calls: list[Call]) -> dict[str, Any]:
    return {**row, "calls": [{"name": c.name, "arguments": c.arguments} for c in calls]}


def composed(row: dict[str, Any], item: BfclItem) -> list[Call]:
    row = _as_row(row, unfolded(row, item))
    row = _as_row(row, trimmed(row, item))
    row = _as_row(row, kept(row, item))
    return fanned(row, item)


if __name__ == "__main__":
    replay_bfcl(sys.argv[1:], composed)
