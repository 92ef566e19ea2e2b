"""`declared_formats`: date and time formats read from parameter descriptions and held by the call grammar."""

from __future__ import annotations

import dataclasses

import llguidance
import pytest

from rixin.calling.constrain import GrammarConstraint, tool_call_grammar
from rixin.calling.formats import declared_pattern, with_declared_formats
from rixin.tools import tool_from_openai


@pytest.mark.parametrize(
    ("description", "pattern"),
    [
        ("The day, as YYYY-MM-DD.", r"^\d{4}\-\d{2}\-\d{2}$"),
        ("Date of the price. Format: yyyy-mm-dd.", r"^\d{4}\-\d{2}\-\d{2}$"),
        ("The month in 'mm-yyyy' format.", r"^\d{2}\-\d{4}$"),
        ("The start time, 24-hour HH:MM.", r"^\d{2}:\d{2}$"),
        ("A US date, M/D/YYYY.", r"^\d{1,2}/\d{1,2}/\d{4}$"),
        ("When, as YYYY-MM-DDTHH:MM.", r"^\d{4}\-\d{2}\-\d{2}T\d{2}:\d{2}$"),
        ("The date (YYYY-MM-DD) or 'today'.", None),  # two forms
        ("Default is 'YYYY-MM-DD HH:mm:ss'.", None),  # a default, not the value's format
        ("From YYYY-MM-DD to YYYY-MM-DD.", None),  # which one?
        ("Write MM for the month.", None),  # one field is not a template
        ("The city name.", None),
    ],
)
def test_declared_pattern(description: str, pattern: str | None) -> None:
    assert declared_pattern(description) == pattern


def test_with_declared_formats_touches_only_free_string_properties() -> None:
    schema = {
        "type": "object",
        "properties": {
            "day": {"type": "string", "description": "The day, as YYYY-MM-DD."},
            "date_format": {"type": "string", "description": "How to write dates, e.g. as YYYY-MM-DD."},
            "kind": {"type": "string", "enum": ["a", "b"], "description": "YYYY-MM-DD"},
            "stay": {"type": "object", "properties": {"from": {"type": "string", "description": "as DD/MM/YYYY"}}},
        },
    }
    changed = with_declared_formats(schema)["properties"]
    assert changed["day"]["pattern"] == r"^\d{4}\-\d{2}\-\d{2}$"
    assert "pattern" not in changed["date_format"] and "pattern" not in changed["kind"]
    assert changed["stay"]["properties"]["from"]["pattern"] == r"^\d{2}/\d{2}/\d{4}$"
    assert "pattern" not in schema["properties"]["day"]  # a copy: the tool's own schema is unchanged


def test_the_grammar_holds_a_declared_date_to_its_format() -> None:
    booking = tool_from_openai(
        {
            "type": "function",
            "function": {
                "name": "book",
                "parameters": {
                    "type": "object",
                    "properties": {"date": {"type": "string", "description": "The day, as YYYY-MM-DD."}},
                    "required": ["date"],
                },
            },
        }
    )
    held = dataclasses.replace(booking, parameters=with_declared_formats(booking.parameters))
    lark = tool_call_grammar([held], open_tag="<c>", close_tag="</c>", tags_are_tokens=False, max_calls=1)

    def accepts(text: str) -> bool:
        constraint = GrammarConstraint(llguidance.LLTokenizer("byte"), lark, 262)
        return all(constraint.accept(byte) for byte in text.encode())

    start = '<c>\n{"name": "book", "arguments": {"date": "'
    assert accepts(start + '2025-07-26"}}\n</c>')
    assert not accepts(start + "2025-07-26T")
    assert not accepts(start + "26 July")
