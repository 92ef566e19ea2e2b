"""Date and time formats that a parameter's description declares, turned into patterns the constraint enforces;
ids held to those the conversation holds.

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


_EXAMPLE_ID = re.compile(r"""\be\.g\.,?\s*["'“]?([A-Za-z]+[-_]?\d[\w-]*|[A-Za-z]+[-_][A-Za-z][\w-]*\d[\w-]*)""")
"""An example id in a description ("e.g. \"FL101\"", "e.g. HT-MAD-1"): letters, then digits somewhere."""
_ID_NAME = re.compile(r"(?:^|_)id$|[a-z]Id$|ID$")


def id_shape(description: str) -> re.Pattern[str] | None:
    """The ids a parameter takes, as a pattern read from the example its description gives: its leading letters as
    written, then runs of digits, letters and separators as the example has them ("FL101": "FL" and digits;
    "HT-MAD-1": "HT-", capitals, "-", digits); None without an example id."""
    found = _EXAMPLE_ID.search(description)
    if found is None:
        return None
    runs = re.findall(r"[A-Za-z]+|\d+|[-_]", found.group(1))
    parts = [re.escape(runs[0])]
    for run in runs[1:]:
        if run.isdigit():
            parts.append(r"\d+")
        elif run.isalpha():
            parts.append("[A-Z]+" if run.isupper() else "[a-z]+" if run.islower() else "[A-Za-z]+")
        else:
            parts.append(re.escape(run))
    return re.compile(rf"(?<![\w-]){''.join(parts)}(?![\w-])")


def with_known_ids(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """A copy of a parameters schema in which each string property named as an id ("id", "flight_id", "eventId")
    whose description gives an example id is limited to the ids of that shape the text holds, where it holds any
    (no `enum` of its own). Ids are copied, never made up: before a search the model wrote `book_flight("FL101")`
    from the description's example; after the search the list's ids are the choices."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return schema
    changed: dict[str, Any] = {}
    for name, node in properties.items():
        if not isinstance(node, dict) or node.get("type") != "string" or not _ID_NAME.search(name):
            continue
        if {"enum", "const", "pattern"} & node.keys():
            continue
        shape = id_shape(str(node.get("description", "")))
        ids = sorted({m.group(0) for m in shape.finditer(text)}) if shape else []
        if ids:
            changed[name] = {**node, "enum": ids}
    return {**schema, "properties": {**properties, **changed}} if changed else schema


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
