"""What would `declared_fractions` change in finished runs? (development analysis; exact for BFCL items, one turn)

    python benchmarks/exploratory/fraction_replay.py runs/DIR [runs/DIR2 ...]

Converts each logged call's number arguments with `rixin.calling.formats.as_declared_fraction` (against what the
user said) and re-judges them with the bench's checker; prints the items that change and accuracy before → after.
"""

from __future__ import annotations

import sys
from typing import Any

from bfcl_replay import replay_bfcl

from rixin.bench.bfcl import BfclItem
from rixin.bench.checker import Call
from rixin.calling.formats import as_declared_fraction


def converted(row: dict[str, Any], item: BfclItem) -> list[Call]:
    said = "\n".join(str(m.get("content", "")) for m in item.messages if m.get("role") == "user")
    properties = {t["function"]["name"]: t["function"]["parameters"].get("properties", {}) for t in item.tools()}
    calls = []
    for call in row["calls"]:
        schema = properties.get(call["name"], {})
        arguments = {
            key: as_declared_fraction(value, str(schema[key].get("description", "")), said)
            if isinstance(schema.get(key), dict) and schema[key].get("type") == "number"
            else value
            for key, value in call["arguments"].items()
        }
        calls.append(Call(call["name"], arguments))
    return calls


if __name__ == "__main__":
    replay_bfcl(sys.argv[1:], converted)
