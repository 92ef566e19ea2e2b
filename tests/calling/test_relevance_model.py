"""Relevance on the real 0.5B model: a request no tool fits gets a text answer, one that a tool fits gets its
call (the `ground_calls` rule with the default options; greedy decoding). Requests written for this test."""

from __future__ import annotations

import pytest

from rixin.calling import Engine
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.types import Message

pytestmark = pytest.mark.model

TOOLS = [get_weather, convert_currency]


@pytest.mark.parametrize(
    "request_text",
    [
        "How many legs does a spider have?",
        "Who painted the ceiling of the Sistine Chapel?",
        "Write a haiku about autumn leaves.",
    ],
)
def test_a_request_no_tool_fits_is_answered_in_words(qwen_engine: Engine, request_text: str) -> None:
    result = qwen_engine.chat([Message(role="user", content=request_text)], tools=TOOLS)
    assert result.error is None
    assert not result.message.tool_calls, [c.function for c in result.message.tool_calls or []]
    assert (result.message.content or "").strip()


@pytest.mark.parametrize(
    ("request_text", "name"),
    [("Is it raining in Dublin right now?", "get_weather"), ("How much is 75 GBP in yen?", "convert_currency")],
)
def test_a_request_a_tool_fits_gets_its_call(qwen_engine: Engine, request_text: str, name: str) -> None:
    result = qwen_engine.chat([Message(role="user", content=request_text)], tools=TOOLS)
    assert [c.name for c in result.message.tool_calls or []] == [name]
