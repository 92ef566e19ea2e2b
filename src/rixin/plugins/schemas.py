"""Plugin tool definitions into rixin Tools: names made valid, schemas made strict and checked like any tool's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from rixin.tools import Tool, tool_from_openai
from rixin.tools.schema import NAME_PATTERN, strict_schema

_INVALID = re.compile(r"[^a-zA-Z0-9_.-]+")


def safe_name(name: str) -> str:
    """A tool name the OpenAI format accepts: other characters become '_', at most 64 characters."""
    cleaned = _INVALID.sub("_", name).strip("_") or "tool"
    return cleaned[:64]


def tool_from_schema(name: str, description: str, schema: dict[str, Any] | None) -> Tool:
    """A Tool (without a function) from a plugin's JSON Schema, through the same checks as an OpenAI tool dict.

    Raises ToolSchemaError naming the tool when the schema cannot be used."""
    parameters = dict(schema or {"type": "object", "properties": {}})
    parameters.setdefault("type", "object")
    # Titles are noise in a small model's prompt; inlined $defs are easier for it to follow than $refs.
    parameters = strict_schema(parameters)
    return tool_from_openai({"name": safe_name(name), "description": description.strip(), "parameters": parameters})


def unique_tools(existing: Iterable[Tool], extra: Iterable[Tool], prefix: str) -> list[Tool]:
    """`extra` with names that clash with `existing` (or each other) prefixed by `prefix_`, then numbered."""
    taken = {t.name for t in existing}
    out: list[Tool] = []
    for made in extra:
        name = made.name
        if name in taken:
            name = safe_name(f"{prefix}_{made.name}")
        number = 2
        base = name
        while name in taken:
            name = f"{base[:60]}_{number}"
            number += 1
        assert NAME_PATTERN.match(name)
        taken.add(name)
        out.append(made if name == made.name else replace(made, name=name))
    return out
