"""Counting the calls a request needs from the model's own plan, keeping only lines grounded in the request.

Asked to list the calls a request needs, a small model lists the right ones first and then keeps going
(measured on Qwen2.5-Coder-0.5B: "Convert 20 EUR to JPY" got eight lines, the later ones with currencies
the user never named). A planned line counts only if it brings a value the request actually contains and
that no earlier counted line already brought: that keeps "Paris" and "Tokyo" as two calls and drops the
invented ones.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"\"([^\"\n]{1,80})\"|'([^'\n]{1,80})'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def plan_values(line: str) -> list[str]:
    """The literal values in one planned line: quoted strings and numbers (outside the quotes)."""
    values = [a or b for a, b in _QUOTED.findall(line)]
    unquoted = _QUOTED.sub(" ", line)
    values += _NUMBER.findall(unquoted)
    return [value.strip() for value in values if value.strip()]


def _normalise_number(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else str(number)


def grounded(value: str, request: str) -> bool:
    """Whether the request contains the value as a whole word (numbers compared by value, text ignoring case)."""
    if _NUMBER.fullmatch(value):
        target = _normalise_number(value)
        return any(_normalise_number(found) == target for found in _NUMBER.findall(request.replace(",", "")))
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", request, re.IGNORECASE) is not None


def count_planned_calls(plan: str, request: str) -> int | None:
    """Planned lines that each bring a new value grounded in the request; None when no line is grounded (the
    plan says nothing reliable, so the count is left to the model)."""
    seen: set[str] = set()
    count = 0
    for line in plan.splitlines():
        fresh = {v.lower() for v in plan_values(line) if grounded(v, request)} - seen
        if fresh:
            count += 1
            seen |= fresh
    return count or None


def plan_stalled(finished_lines: list[str], request: str) -> bool:
    """Whether the last finished line of a plan brought no new grounded value (nothing after it will count)."""
    if not finished_lines:
        return False
    before = count_planned_calls("\n".join(finished_lines[:-1]), request) or 0
    return (count_planned_calls("\n".join(finished_lines), request) or 0) == before
