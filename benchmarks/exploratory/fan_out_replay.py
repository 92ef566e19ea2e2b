"""What would fanning calls out over the values a request lists change in finished runs? (development analysis;
exact for BFCL items, which are one turn)

    python benchmarks/exploratory/fan_out_replay.py runs/DIR [runs/DIR2 ...]

Applies `rixin.calling.enumerations.fan_out` to each logged row's calls (only where the bench allowed parallel
calls, as the engine would) and re-judges them with the bench's checker; prints the items that change and accuracy
before → after per category.
"""

from __future__ import annotations

import sys
from typing import Any

from bfcl_replay import replay_bfcl

from rixin.bench.bfcl import BfclItem
from rixin.bench.checker import Call
from rixin.calling.enumerations import fan_out


def fanned(row: dict[str, Any], item: BfclItem) -> list[Call]:
    calls = [(c["name"], c["arguments"]) for c in row["calls"]]
    request = next(str(m.get("content", "")) for m in reversed(item.messages) if m.get("role") == "user")
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in item.tools()}
    return [Call(name, arguments) for name, arguments in fan_out(calls, request, schemas, limit=8)]


if __name__ == "__main__":
    replay_bfcl(sys.argv[1:], fanned)
