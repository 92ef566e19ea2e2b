"""Comparisons across tool results, worked out for the model.

A small model reads a list of records and takes the first one: asked for "the cheapest flight", the 1.5B booked
the first flight of a list sorted by departure. Finding a record's lowest or highest field is arithmetic, not
language, so the engine does it and shows the model each field's extremes beside the results; the model still
decides which field the request is about ("the cheapest" → the lowest price). Only for a request that asks for an
extreme: shown the extremes of every list, the 1.5B acted on all of a list's records where the request wanted one
(docs/results.md §25)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from rixin.types import Message

_DATE_OR_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?|\d{1,2}:\d{2}(:\d{2})?")
_EXTREME = re.compile(
    r"\b(?:most|least|fewest|top|maximum|minimum|max|min|best|worst|cheapest|priciest|lowest|highest|largest|"
    r"biggest|smallest|earliest|latest|soonest|newest|oldest|longest|shortest|closest|nearest|furthest|farthest|"
    r"fastest|slowest|\w+iest)\b|最",
    re.IGNORECASE,
)
"""Words that ask for an extreme (English superlatives, "最" in Chinese)."""
_MAX_RECORDS = 200
_MAX_FIELDS = 8


def _records(contents: Sequence[str]) -> list[dict[str, Any]]:
    """The records in one round of results: each result a list of objects, or one object."""
    records: list[dict[str, Any]] = []
    for content in contents:
        try:
            value = json.loads(content)
        except (TypeError, ValueError):
            continue
        items = value if isinstance(value, list) else [value]
        records.extend(item for item in items if isinstance(item, dict) and "error" not in item)
    return records[:_MAX_RECORDS]


def _id_key(records: list[dict[str, Any]]) -> str | None:
    """The field that names each record: "id", else the one field ending in "id"/"_id", else "name"."""
    shared = set(records[0]).intersection(*records[1:])
    for key in ("id", *sorted(k for k in shared if k.lower().endswith("_id")), "name", "title"):
        values = [r.get(key) for r in records]
        named = key in shared and all(isinstance(v, str | int) and not isinstance(v, bool) for v in values)
        if named and len({str(v) for v in values}) == len(values):
            return key
    return None


def _comparable(values: list[Any]) -> str | None:
    """ "number" or "time" when every value is one (and not all equal), else None."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        kind = "number"
    elif all(isinstance(v, str) and _DATE_OR_TIME.fullmatch(v.strip()) for v in values):
        kind = "time"
    else:
        return None
    return kind if len(set(values)) > 1 else None


def _named(records: list[dict[str, Any]], id_key: str, field: str, value: Any) -> str:
    names = ", ".join(str(r[id_key]) for r in records if r[field] == value)
    return f"{names} ({value})"


def compare_results(contents: Sequence[str]) -> str | None:
    """Each comparable field's lowest and highest record among the results, as one line per field, or None when
    the results are not two or more records with ids. Times and dates compare as written (ISO order)."""
    records = _records(contents)
    if len(records) < 2:
        return None
    id_key = _id_key(records)
    if id_key is None:
        return None
    fields = [k for k in records[0] if k != id_key and all(k in r for r in records)]
    lines: list[str] = []
    for field in fields:
        values = [r[field] for r in records]
        kind = _comparable(values)
        if kind is None:
            continue
        low, high = ("lowest", "highest") if kind == "number" else ("earliest", "latest")
        lines.append(
            f"{low} {field}: {_named(records, id_key, field, min(values))}; "
            f"{high} {field}: {_named(records, id_key, field, max(values))}"
        )
        if len(lines) == _MAX_FIELDS:
            break
    if not lines:
        return None
    return f"(Compared across these {len(records)} results:\n" + "\n".join(lines) + ")"


def asks_for_extreme(request: str) -> bool:
    """Whether a request asks for the lowest or highest of something ("the cheapest", "the most stars", "最便宜")."""
    return _EXTREME.search(request) is not None


def with_comparison(conversation: list[Message]) -> list[Message]:
    """The conversation with the comparison of its latest round of tool results written under the last one, when
    the user's latest request asks for an extreme."""
    request = next((m.content for m in reversed(conversation) if m.role == "user" and m.content), "")
    if not asks_for_extreme(request):
        return conversation
    last_round: list[Message] = []
    for message in reversed(conversation):
        if message.role != "tool":
            break
        last_round.insert(0, message)
    if not last_round:
        return conversation
    comparison = compare_results([m.content or "" for m in last_round])
    if comparison is None:
        return conversation
    last = conversation[-1]
    return [*conversation[:-1], last.model_copy(update={"content": (last.content or "") + "\n\n" + comparison})]
