"""`declared_formats`: date and time formats read from parameter descriptions and held by the call grammar."""

from __future__ import annotations

import dataclasses

import llguidance
import pytest

from rixin.calling.constrain import GrammarConstraint, tool_call_grammar
from rixin.calling.formats import as_declared_fraction, declared_fraction, declared_pattern, with_declared_formats
from rixin.tools import Tool, tool_from_openai


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
    start = '<c>\n{"name": "book", "arguments": {"date": "'
    assert grammar_accepts(held, start + '2025-07-26"}}\n</c>')
    assert not grammar_accepts(held, start + "2025-07-26T")
    assert not grammar_accepts(held, start + "26 July")


def grammar_accepts(held: Tool, text: str) -> bool:
    """Whether the call grammar of the one tool (tags "<c>", "</c>") accepts `text` as far as it goes."""
    lark = tool_call_grammar([held], open_tag="<c>", close_tag="</c>", tags_are_tokens=False, max_calls=1)
    constraint = GrammarConstraint(llguidance.LLTokenizer("byte"), lark, 262)
    return all(constraint.accept(byte) for byte in text.encode())


@pytest.mark.parametrize(
    ("description", "form"),
    [
        ("The annual interest rate, as a decimal.", "decimal"),
        ("The rate in decimal form. Example, 5% is 0.05.", "decimal"),
        ("The expected return. E.g. 5% = 0.05", "decimal"),
        ("The growth rate, in percentage. Default is 1.2.", "percent"),
        ("The annual rate of return.", None),  # says neither
        ("The rate as a decimal or in percentage.", None),  # says both
    ],
)
def test_declared_fraction(description: str, form: str | None) -> None:
    assert declared_fraction(description) == form


def test_a_share_given_as_a_percentage_takes_the_declared_form() -> None:
    decimal, percent = "The rate, as a decimal.", "The rate in percentage."
    asked = "Invest 5000 at 7% for 5 years, with 2.5 percent fees."
    assert as_declared_fraction(7, decimal, asked) == 0.07
    assert as_declared_fraction(2.5, decimal, asked) == 0.025
    assert as_declared_fraction(0.07, percent, asked) == 7
    assert as_declared_fraction(0.07, decimal, asked) == 0.07  # already in its form
    assert as_declared_fraction(5, decimal, asked) == 5  # 5 is no percentage the user gave
    assert as_declared_fraction(7, "The rate.", asked) == 7  # no form declared
    assert as_declared_fraction(True, decimal, asked) is True


@pytest.mark.parametrize("on", [True, False])
def test_the_engine_writes_a_percentage_as_the_declared_decimal(on: bool) -> None:
    from rixin.calling import CallingOptions, Engine
    from rixin.types import Message

    from .test_repair import ScriptedModel, listed, summary

    grow = tool_from_openai(
        {
            "type": "function",
            "function": {
                "name": "grow",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "amount": {"type": "number", "description": "The amount."},
                        "rate": {"type": "number", "description": "The yearly rate, as a decimal."},
                    },
                    "required": ["amount", "rate"],
                },
            },
        }
    )
    model = ScriptedModel(["<tool_call>", listed(("grow", {"amount": 7, "rate": 7}))])
    ask = [Message(role="user", content="Grow 7 dollars at 7% a year.")]
    result = Engine(model, CallingOptions(plan_calls=False, declared_fractions=on)).chat(ask, tools=[grow])
    # the amount's description declares no share: 7 stays 7 there
    assert summary(result) == [("grow", {"amount": 7, "rate": 0.07 if on else 7})]
