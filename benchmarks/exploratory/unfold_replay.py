"""What would `unfold_values` change in finished runs? (development analysis; exact for BFCL items, one turn)

    python benchmarks/exploratory/unfold_replay.py runs/DIR [runs/DIR2 ...]

Takes a number another argument holds off each logged call's string arguments
(`rixin.calling.grounding.without_folded_values`) and re-judges them with the bench's checker; prints the items
that change (labelled by run folder) and accuracy before → after.
"""

from __future__ import annotations

import sys
from typing import Any

from bfcl_replay import replay_bfcl

from rixin.bench.bfcl import BfclItem
from rixin.bench.checker import Call
from rixin.calling.grounding import Context, without_folded_values


def unfolded(row: dict[str, Any], item: BfclItem) -> list[Call]:
    context = Context("")
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in item.tools()}
    return [
        Call(call["name"], without_folded_values(call["arguments"], schemas.get(call["name"], {}), context))
        for call in row["calls"]
    ]


if __name__ == "__main__":
    replay_bfcl(sys.argv[1:], unfolded, label_by_folder=True)
