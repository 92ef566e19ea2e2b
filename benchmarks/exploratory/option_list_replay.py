"""What would `ground_option_lists` change in finished runs? (development analysis; exact for BFCL items, one turn)

    python benchmarks/exploratory/option_list_replay.py runs/DIR [runs/DIR2 ...]

Cuts each logged call's lists of enum choices to those the conversation names
(`rixin.calling.grounding.without_unsaid_options`) and re-judges them with the bench's checker; prints the items
that change and accuracy before → after.
"""

from __future__ import annotations

import sys
from typing import Any

from bfcl_replay import replay_bfcl

from rixin.bench.bfcl import BfclItem
from rixin.bench.checker import Call
from rixin.calling.grounding import Context, without_unsaid_options


def trimmed(row: dict[str, Any], item: BfclItem) -> list[Call]:
    context = Context("\n".join(str(m.get("content", "")) for m in item.messages))
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in item.tools()}
    return [
        Call(call["name"], without_unsaid_options(call["arguments"], schemas.get(call["name"], {}), context))
        for call in row["calls"]
    ]


if __name__ == "__main__":
    replay_bfcl(sys.argv[1:], trimmed)
