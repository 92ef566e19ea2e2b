"""Running one call for the loop: every outcome is a tool message the model can read, whatever the tool returned.

Values that are not JSON (datetimes, sets, objects, bytes) are converted to text and huge results truncated,
each with a note saying so, so the run goes on and the model knows what it is looking at.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rixin.tools import Tool
from rixin.types import Message, ToolCall

MAX_RESULT_CHARS = 20_000


def run_call(tools: Sequence[Tool], call: ToolCall, limit: int = MAX_RESULT_CHARS) -> Message:
    """Run one call; an unknown tool, bad arguments or an exception become an error the model can read."""
    by_name = {t.name: t for t in tools}
    found = by_name.get(call.function.name)
    try:
        if found is None:
            raise LookupError(f"unknown tool {call.function.name!r}; available: {', '.join(by_name)}")
        content = result_as_text(found.invoke(call.parsed_arguments()), limit)
    except Exception as error:  # any failure is data for the model, never a crash of the run
        message = f"{type(error).__name__}: {error}"
        content = json.dumps({"error": _truncate(message, limit)}, ensure_ascii=False)
    return Message(role="tool", tool_call_id=call.id, name=call.function.name, content=content)


def result_as_text(value: Any, limit: int = MAX_RESULT_CHARS) -> str:
    """JSON when the value is JSON; otherwise converted with a note. Truncated with a note past `limit`."""
    if isinstance(value, str):
        return _truncate(value, limit)
    try:
        return _truncate(json.dumps(value, ensure_ascii=False, allow_nan=False), limit)
    except (TypeError, ValueError):
        pass
    converted: list[str] = []

    def describe(item: Any) -> Any:
        converted.append(type(item).__name__)
        if isinstance(item, bytes | bytearray):
            try:
                return bytes(item).decode("utf-8")
            except UnicodeDecodeError:
                return f"<{len(item)} bytes of binary data>"
        if isinstance(item, set | frozenset | tuple):
            return list(item)
        return str(item)

    try:
        text = json.dumps(value, ensure_ascii=False, default=describe)
        kinds = ", ".join(sorted(set(converted))) or "NaN/infinity"
        note = f"[note: values that are not JSON ({kinds}) were converted to text]"
    except (TypeError, ValueError, RecursionError):  # circular data, keys that are not strings
        text = _safe_repr(value)
        note = f"[note: the result ({type(value).__name__}) is not JSON; shown as Python's repr]"
    return _truncate(text, limit - len(note) - 1) + "\n" + note


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as error:
        return f"<{type(value).__name__} that cannot be shown: {type(error).__name__}>"


def _truncate(text: str, limit: int) -> str:
    limit = max(limit, 200)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[truncated: {len(text) - limit} more characters of {len(text)}]"
