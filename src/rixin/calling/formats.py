"""Date and time formats that a parameter's description declares, turned into patterns the constraint enforces.

Tool authors write the format of a date in words ("The day, as YYYY-MM-DD.", "Format: yyyy-mm-dd", "in 'mm-yyyy'
format") far more often than as JSON Schema's `format` or `pattern`. A small model then writes whatever date it
likes ("2025-07-17T14:00:00Z" for a day; the 0.5B did, and the API refused it). Read from the description, the
template becomes a `pattern`, so that schema-constrained decoding holds the value to it.
"""

from __future__ import annotations

import re
from typing import Any

_FIELD = "(?:YYYY|yyyy|YY|yy|MM|mm|M|DD|dd|D|d|HH|hh|H|ss|SS)"
_TEMPLATE = re.compile(rf"(?<![A-Za-z])({_FIELD}(?:[-/.: T]{_FIELD})+)(?![A-Za-z])")
"""A date or time template: fields of Y, M, D, H, m, s joined by separators ("YYYY-MM-DD", "HH:mm", "mm-yyyy")."""
_NOT_THE_VALUE = re.compile(r"(?:default|e\.g|example|such as)\W{0,3}\w*\W{0,3}$", re.IGNORECASE)
"""Words before a template that make it something other than the value's format ("Default is 'YYYY-MM-DD'")."""
_ALTERNATIVE = re.compile(r"^\W{0,3}(?:\w+\W{1,3}){0,2}or\b", re.IGNORECASE)
"""Words after a template that offer another form ("YYYY-MM-DD or 'today'")."""


def declared_pattern(description: str) -> str | None:
    """The regular expression for the one date or time format the description declares, or None when it declares
    none, several, or writes one that is not the value's own (a default, an example, one of two forms)."""
    found = [m for m in _TEMPLATE.finditer(description) if any(c in m.group(1).lower() for c in "ydh")]
    if len(found) != 1:
        return None
    match = found[0]
    before, after = description[: match.start()], description[match.end() :]
    if _NOT_THE_VALUE.search(before[-30:]) or _ALTERNATIVE.match(after):
        return None
    parts = []
    for piece in re.split(f"({_FIELD})", match.group(1)):
        if not piece:
            continue
        if re.fullmatch(_FIELD, piece):
            parts.append(r"\d{1,2}" if len(piece) == 1 else rf"\d{{{len(piece)}}}")
        else:  # a space as itself: Python's re.escape writes "\\ ", which the grammar's regex need not take
            parts.append(" " if piece == " " else re.escape(piece))
    return "^" + "".join(parts) + "$"


def with_declared_formats(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a parameters schema in which each string property whose description declares a date or time
    format, and that has no `pattern`, `format` or `enum` of its own, gets that format as its `pattern`.
    Properties that name a format themselves (`date_format`) are left alone: their value is a template."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return schema
    changed: dict[str, Any] = {}
    for name, node in properties.items():
        if not isinstance(node, dict):
            changed[name] = node
            continue
        if node.get("type") == "object":
            changed[name] = with_declared_formats(node)
            continue
        free = node.get("type") == "string" and not ({"pattern", "format", "enum", "const"} & node.keys())
        pattern = declared_pattern(str(node.get("description", ""))) if free and "format" not in name else None
        changed[name] = {**node, "pattern": pattern} if pattern else node
    return {**schema, "properties": changed}


_AS_DECIMAL = re.compile(
    r"\b(?:as|in) (?:a )?decimal(?: form| format| fraction| value)?\b"
    r"|\d+(?:\.\d+)?\s?%\s*(?:is|=|would be(?: represented as)?|should be|means|as)\s*0?\.\d+",
    re.IGNORECASE,
)
_AS_PERCENTAGE = re.compile(r"\b(?:as a|in|in a) percent(?:age)?\b|\bpercentage\b", re.IGNORECASE)


def declared_fraction(description: str) -> str | None:
    """How a number's description asks for a share: "decimal" ("as a decimal", "5% is 0.05"), "percent" ("in
    percentage"), or None when it says neither or both."""
    decimal, percent = bool(_AS_DECIMAL.search(description)), bool(_AS_PERCENTAGE.search(description))
    return "decimal" if decimal and not percent else "percent" if percent and not decimal else None


def _percents(text: str) -> set[float]:
    return {float(m) for m in re.findall(r"(\d+(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)", text, re.IGNORECASE)}


def as_declared_fraction(value: Any, description: str, text: str) -> Any:
    """A number the model wrote for a share, in the form the description declares, when the text gave it as a
    percentage: 5 → 0.05 where the description wants a decimal and the text says "5%"; 0.05 → 5 where it wants a
    percentage. Anything else is returned as it was."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    form, given = declared_fraction(description), _percents(text)
    if form == "decimal" and float(value) in given and value > 1:
        return round(value / 100, 10)
    if form == "percent" and 0 < value < 1 and round(value * 100, 8) in given:
        converted = round(value * 100, 8)
        return int(converted) if converted == int(converted) else converted
    return value
