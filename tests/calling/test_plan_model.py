"""plan_calls on the real 0.5B model: the plan's grounded lines set the number of calls (greedy decoding)."""

from __future__ import annotations

import pytest

from rixin.calling import Engine, with_options
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.types import Message

pytestmark = pytest.mark.model


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("How warm is it in London?", [("get_weather", "London")]),
        ("Convert 20 EUR to JPY", [("convert_currency", "EUR")]),
        ("What's the weather in Paris and in Tokyo?", [("get_weather", "Paris"), ("get_weather", "Tokyo")]),
        (
            "Convert 100 USD to EUR, and tell me the weather in Rome, Oslo and Cairo.",
            [("convert_currency", "USD"), ("get_weather", "Rome"), ("get_weather", "Oslo"), ("get_weather", "Cairo")],
        ),
    ],
)
def test_the_plan_sets_the_call_count(qwen_engine: Engine, request_text: str, expected: list[tuple[str, str]]) -> None:
    engine = with_options(qwen_engine, plan_calls=True)  # the default; explicit so the test says what it tests
    result = engine.chat([Message(role="user", content=request_text)], tools=[get_weather, convert_currency])
    assert result.error is None
    calls = result.message.tool_calls or []
    got = [(c.name, c.parsed_arguments().get("city") or c.parsed_arguments().get("from_currency")) for c in calls]
    assert sorted(got) == sorted(expected)  # parallel calls: their order means nothing
    assert [a.stage for a in result.attempts][:2] == ["decide", "plan"]
