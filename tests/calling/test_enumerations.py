"""Lists of values in a request, and the calls fanned out over them (rixin.calling.enumerations)."""

from __future__ import annotations

from typing import Any

import pytest

from rixin.calling import CallingOptions, Engine
from rixin.calling.enumerations import fan_out, listed_values
from rixin.types import Message

from .test_repair import TOOLS, ScriptedModel, listed, summary


@pytest.mark.parametrize(
    ("request_text", "lists"),
    [
        ("The factorial of 5,10 and 15.", [["5", "10", "15"]]),
        ("Totals of 1,000, 2,500 or 7.5 please", [["1,000", "2,500", "7.5"]]),
        ("Weather in New York, Los Angeles, and Miami?", [["New York", "Los Angeles", "Miami"]]),
        ("A random number between 1 and 10.", []),  # a range: two arguments
        ("Japan and India over 10 and 20 years respectively.", []),  # paired values
        ("A radius of 10 meters, and the third one", []),  # lower-case words are no list
        ("I live in Tokyo and I like it.", []),  # "I" is no name
        ("The weather in Rome, Oslo and Cairo.", [["Rome", "Oslo", "Cairo"]]),  # the sentence's full stop
        ("From Boston to Washington D.C. or Miami", [["Washington D.C.", "Miami"]]),  # an abbreviation's
    ],
)
def test_listed_values(request_text: str, lists: list[list[str]]) -> None:
    assert listed_values(request_text) == lists


INTEGER = {"properties": {"number": {"type": "integer"}}}


def test_a_call_holding_one_listed_value_is_made_for_each_other() -> None:
    calls = fan_out([("factorial", {"number": 15})], "The factorial of 5, 10 and 15.", {"factorial": INTEGER}, 8)
    assert calls == [("factorial", {"number": 15}), ("factorial", {"number": 5}), ("factorial", {"number": 10})]


def test_a_list_every_value_of_which_is_held_adds_nothing() -> None:
    city = {"properties": {"city": {"type": "string"}}}
    calls = [("weather", {"city": "Rome"}), ("weather", {"city": "Oslo"}), ("weather", {"city": "Cairo"})]
    assert fan_out(calls, "The weather in Rome, Oslo and Cairo.", {"weather": city}, 8) == calls


def test_one_call_over_some_listed_values_is_made_for_the_rest() -> None:
    calls = [("factorial", {"number": 15}), ("factorial", {"number": 10})]
    result = fan_out(calls, "The factorial of 5, 10 and 15.", {"factorial": INTEGER}, 8)
    assert result == [*calls, ("factorial", {"number": 5})]


POWER = {"properties": {"number": {"type": "integer"}, "exponent": {"type": "integer"}}}


@pytest.mark.parametrize(
    "calls",
    [
        # two values held by calls that differ otherwise: the model paired them with something, not a list
        [("power", {"number": 5, "exponent": 2}), ("power", {"number": 15, "exponent": 3})],
        [("power", {"number": 7, "exponent": 2})],  # none is held
    ],
)
def test_no_fan_out_where_held_values_are_not_one_call_over_the_list(calls: list[tuple[str, dict[str, Any]]]) -> None:
    assert fan_out(calls, "Powers of 5, 10 and 15.", {"power": POWER}, 8) == calls


def test_values_the_schema_cannot_take_and_the_limit_are_respected() -> None:
    schema = {"properties": {"unit": {"type": "string", "enum": ["Celsius", "Kelvin"]}}}
    calls = fan_out([("convert", {"unit": "celsius"})], "In Celsius, Fahrenheit or Kelvin?", {"convert": schema}, 8)
    assert calls == [("convert", {"unit": "celsius"}), ("convert", {"unit": "Kelvin"})]  # the enum's spelling
    many = fan_out([("factorial", {"number": 1})], "Of 1, 2, 3, 4 and 5.", {"factorial": INTEGER}, 3)
    assert len(many) == 3


ORDER = {"properties": {"list": {"type": "array"}, "order": {"type": "string", "enum": ["ascending", "descending"]}}}


def test_lower_case_words_are_a_list_where_a_parameter_declares_them() -> None:
    request = "Sort [3, 1] and [9, 4] in both ascending and descending order."
    assert listed_values(request) == []
    assert listed_values(request, ["ascending", "descending"]) == [["ascending", "descending"]]


def test_declared_choices_fan_out_every_call_holding_one() -> None:
    calls = [("sort", {"list": [3, 1], "order": "ascending"}), ("sort", {"list": [9, 4], "order": "descending"})]
    request = "Sort [3, 1] and [9, 4] in both ascending and descending order."
    result = fan_out(calls, request, {"sort": ORDER}, 8)
    assert sorted((c[1]["list"], c[1]["order"]) for c in result) == [
        ([3, 1], "ascending"),
        ([3, 1], "descending"),
        ([9, 4], "ascending"),
        ([9, 4], "descending"),
    ]
    # named values (not declared choices) still fan out only where exactly one of them is held
    assert fan_out(calls, "Sort [3, 1] and [9, 4] in Ascending or Descending order.", {"sort": INTEGER}, 8) == calls


@pytest.mark.parametrize("on", [True, False])
def test_the_engine_fans_the_first_calls_out_over_a_listed_run(on: bool) -> None:
    model = ScriptedModel(["<tool_call>", listed(("get_weather", {"city": "Oslo"}))])
    ask = [Message(role="user", content="How warm is it in Oslo, Bergen and Paris?")]
    result = Engine(model, CallingOptions(plan_calls=False, fan_out_lists=on)).chat(ask, tools=TOOLS)
    cities = [arguments["city"] for _, arguments in summary(result)]
    assert cities == (["Oslo", "Bergen", "Paris"] if on else ["Oslo"])
    assert ("fan_out" in [a.stage for a in result.attempts]) is on
