"""Turning (messages, tools, tool_choice) into validated calls, for any model."""

from __future__ import annotations

from typing import Any

from rixin.calling.engine import Engine, classify_start, with_options
from rixin.calling.families import Family, family_for_template
from rixin.calling.options import CallingOptions, tuned_options
from rixin.calling.parse import ParsedCall, ParseResult, parse_tool_calls

__all__ = [
    "CallingOptions",
    "Engine",
    "Family",
    "ParseResult",
    "ParsedCall",
    "classify_start",
    "family_for_template",
    "open_model",
    "parse_tool_calls",
    "tuned_options",
    "with_options",
]


def open_model(spec: str | None = None, options: CallingOptions | None = None, **llama_options: Any) -> Engine:
    """The `ChatModel` for a `--model` value: the model wrapped in the function-calling engine."""
    from rixin.models import load_model

    return Engine(load_model(spec, **llama_options), options)
