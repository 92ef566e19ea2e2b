"""What every API of the execution suite shares: tools bound to one instance, a state snapshot, and one
fresh world (`ExecEnv`) that runs a model's calls and logs them."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from rixin.tools import Tool, result_text, tool
from rixin.types import Message, ToolCall

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# One Tool per (API class, method): building a schema is slow, binding a fresh instance is not.
_TEMPLATES: dict[tuple[type, str], Tool] = {}


class Api:
    """A small deterministic API whose whole mutable state is plain dicts and lists."""

    name: ClassVar[str]
    methods: ClassVar[tuple[str, ...]]
    """The methods offered to a model as tools, in order."""
    mutating: ClassVar[frozenset[str]]
    """The methods that change state; every other method only reads."""

    def tools(self) -> list[Tool]:
        tools = []
        for method in self.methods:
            bound = getattr(self, method)
            template = _TEMPLATES.get((type(self), method))
            if template is None:
                template = _TEMPLATES[(type(self), method)] = tool(bound)
            tools.append(dataclasses.replace(template, function=bound, read_only=method not in self.mutating))
        return tools

    def state(self) -> dict[str, Any]:
        raise NotImplementedError


class ExecEnv:
    """One fresh world for one run of a task: the APIs, the tools bound to them, and a log of calls."""

    def __init__(self, apis: Sequence[Api]) -> None:
        self.apis: dict[str, Api] = {api.name: api for api in apis}
        self.tools: list[Tool] = [t for api in apis for t in api.tools()]
        self.mutating: frozenset[str] = frozenset().union(*(api.mutating for api in apis))
        self.calls: list[tuple[str, dict[str, Any], bool]] = []
        self._by_name = {t.name: t for t in self.tools}

    def execute(self, name: str, arguments: Mapping[str, Any]) -> tuple[bool, str]:
        """Run one call: (True, the result as JSON text) or (False, `{"error": ...}` as JSON text) for an
        unknown function, arguments the schema or the API rejects, or any other exception. Logged either way."""
        logged = copy.deepcopy(dict(arguments)) if isinstance(arguments, Mapping) else {}
        try:
            found = self._by_name.get(name)
            if found is None:
                raise LookupError(f"unknown function {name!r}; available: {', '.join(self._by_name)}")
            if not isinstance(arguments, Mapping):
                raise TypeError(f"arguments must be a JSON object, got {type(arguments).__name__}")
            ok, text = True, result_text(found.invoke(arguments))
        except Exception as error:  # every failure is data for the model
            ok, text = False, json.dumps({"error": f"{type(error).__name__}: {error}"}, ensure_ascii=False)
        self.calls.append((name, logged, ok))
        return ok, text

    def tool_message(self, call: ToolCall) -> Message:
        """Run a model's ToolCall and answer it with the `role: tool` message to feed back."""
        try:
            arguments = call.parsed_arguments()
        except ValueError as error:  # includes json.JSONDecodeError
            self.calls.append((call.name, {}, False))
            content = json.dumps({"error": f"arguments are not a JSON object: {error}"}, ensure_ascii=False)
        else:
            _, content = self.execute(call.name, arguments)
        return Message(role="tool", tool_call_id=call.id, name=call.name, content=content)

    def state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot of every API's mutable state."""
        return {name: api.state() for name, api in self.apis.items()}


# ------------------------------------------------------------------------------------------ helpers


def parse_date(value: str, what: str = "date") -> str:
    """A valid YYYY-MM-DD date, returned unchanged; ValueError otherwise."""
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} must be a real date written YYYY-MM-DD, got {value!r}") from None
    return text


def parse_time(value: str, what: str = "time") -> int:
    """HH:MM (24-hour) as minutes after midnight; ValueError otherwise."""
    match = _TIME.match(value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{what} must be a 24-hour time written HH:MM, got {value!r}")
    return int(match[1]) * 60 + int(match[2])


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def lookup(table: Mapping[str, Any], key: str, what: str) -> str:
    """The table's own spelling of `key`, matched without regard to case or surrounding spaces."""
    wanted = key.strip().lower()
    for known in table:
        if known.lower() == wanted:
            return known
    raise ValueError(f"unknown {what} {key!r}")


def canonical(records: Iterable[dict[str, Any]], seed_ids: set[str]) -> list[dict[str, Any]]:
    """Records in a fixed order, ids of records made during the run shown as "new": two runs that create
    the same things in a different order, or that create, remove and create again, give the same list."""
    out = [{**r, "id": r["id"] if r["id"] in seed_ids else "new"} for r in records]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
