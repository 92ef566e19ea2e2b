"""What would `ground_calls` change in a finished run? (development analysis; exact for BFCL items)

    python benchmarks/exploratory/grounding_stats.py runs/DIR [runs/DIR2 ...]

Replays the engine's rule on each rixin item's calls — drop the calls whose checked values the request does
not contain; no call at all when none is left — and re-judges the result with the bench's checker. A BFCL
item is one turn, so this is what the option would score on the same model outputs (a text answer is all
that replaces a dropped call). Prints accuracy before → after per category and the items that changed.
"""

from __future__ import annotations

import sys
from typing import Any

from bfcl_replay import replay_bfcl
from rixin.bench.bfcl import BfclItem
from rixin.bench.checker import Call
from rixin.calling.parse import parse_tool_calls
from rixin.calling.grounding import Context, Grounding, check_grounding, drop_ungrounded_optional


OPTIONAL = "--optional" in sys.argv
"""Also replay dropping optional arguments with ungrounded values (`drop_ungrounded_optional`)."""


ONLY_INVENTED = "--only-invented" in sys.argv
"""A looser rule, tried and not adopted: drop a call only when none of its checked values is grounded."""


RECOVER = "--recover" in sys.argv
"""For a run made with `ground_calls` on: every item is judged on the calls its last call attempt wrote (read from the
raw output), so calls that grounding dropped from a reply that kept others come back too."""

UNDROP = "--undrop" in sys.argv
"""For a run made with `ground_calls` on: an item without calls gets back the calls its call attempt made (read
from the raw output), so the replay judges them by the current rules."""


TOLERATE_ONE = "--tolerate-one" in sys.argv
"""A looser rule, tried and not adopted: keep a call that lacks one text value when two or more were found."""


def keep(grounding: Grounding) -> bool:
    if TOLERATE_ONE and len(grounding.missing) == 1 and grounding.checked >= 3:
        try:
            float(grounding.missing[0])
        except ValueError:
            return True
    return not grounding.invented if ONLY_INVENTED else grounding.complete


def recovered(raw: str) -> list[dict[str, object]]:
    """The calls of the last attempt in a raw output (attempts are joined by a line of ---) that wrote any."""
    for segment in reversed(raw.split("\n---\n")):
        if "<tool_call>" in segment:
            parsed = parse_tool_calls(segment, {}, "<tool_call>", "</tool_call>")
            return [{"name": c.name, "arguments": c.arguments} for c in parsed.calls]
    return []


def kept_calls(row: dict[str, Any], item: BfclItem) -> list[Call]:
    context = Context("\n".join(str(m.get("content", "")) for m in item.messages))
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in item.tools()}
    if RECOVER:
        calls = recovered(row["raw_output"]) or row["calls"]
    else:
        calls = row["calls"] or (recovered(row["raw_output"]) if UNDROP else [])
    kept = [
        Call(c["name"], c["arguments"])
        for c in calls
        if keep(check_grounding(c["arguments"], schemas.get(c["name"], {}), context))
    ]
    if OPTIONAL:
        kept = [Call(c.name, drop_ungrounded_optional(c.arguments, schemas.get(c.name, {}), context)) for c in kept]
    return kept


def main() -> None:
    replay_bfcl([a for a in sys.argv[1:] if not a.startswith("--")], kept_calls)


if __name__ == "__main__":
    main()
