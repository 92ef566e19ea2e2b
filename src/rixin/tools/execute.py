"""Running validated calls: results and failures both go back to the model as data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rixin.tools.schema import Tool
from rixin.types import Message, ToolCall

MAX_RESULT_CHARS = 20_000


def result_text(value: Any, limit: int = MAX_RESULT_CHARS) -> str:
    """A tool's return value as text for the model: JSON when possible, truncated with a note when huge."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit] + f"\n[truncated: {len(text) - limit} more characters]"
    return text


def execute_call(tools: Sequence[Tool], call: ToolCall) -> Message:
    """Run one call; an unknown tool, bad arguments or an exception become an error the model can read."""
    by_name = {t.name: t for t in tools}
    tool = by_name.get(call.function.name)
    try:
        if tool is None:
            raise LookupError(f"unknown tool {call.function.name!r}; available: {', '.join(by_name)}")
        content = result_text(tool.invoke(call.parsed_arguments()))
    except Exception as error:  # any failure is data for the model, never a crash of the run
        content = json.dumps({"error": f"{type(error).__name__}: {error}"}, ensure_ascii=False)
    return Message(role="tool", tool_call_id=call.id, name=call.function.name, content=content)
