"""Grounding of call values in the conversation (`ground_calls`): the scoring rules, and the engine's use of
them with a scripted model (see test_repair.py for why the engine's mechanics are scripted here)."""

from __future__ import annotations

from typing import Any

import pytest

from rixin.calling import CallingOptions, Engine
from rixin.calling.families import HERMES
from rixin.calling.grounding import (
    Context,
    check_grounding,
    drop_ungrounded_optional,
    without_folded_values,
    without_unsaid_options,
)
from rixin.tools import tool
from rixin.types import Message, ToolCall

from .test_repair import TOOLS, ScriptedModel, call_text, listed, summary

# Unconstrained: the script is the whole answer (no separate probe and call turns).
NO_PLAN = CallingOptions(plan_calls=False, constrained=False)

FLIGHT = {
    "type": "object",
    "properties": {
        "origin": {"type": "string"},
        "destination": {"type": "string"},
        "passengers": {"type": "integer"},
        "cabin": {"type": "string", "enum": ["economy", "business"]},
        "direct": {"type": "boolean"},
        "note": {"type": "string"},
    },
    "required": ["origin", "destination", "passengers", "cabin", "direct"],
}


def grounding(arguments: dict[str, Any], request: str, schema: dict[str, Any] = FLIGHT) -> list[str]:
    return check_grounding(arguments, schema, Context(request)).missing


def test_values_copied_from_the_request_are_grounded() -> None:
    request = "Book a direct flight from Paris to Tokyo for 3 people."
    arguments = {"origin": "Paris", "destination": "Tokyo", "passengers": 3, "cabin": "economy", "direct": True}
    verdict = check_grounding(arguments, FLIGHT, Context(request))
    assert verdict.missing == []
    assert verdict.checked == 3  # enum and boolean are choices, not facts: unchecked
    assert verdict.complete and not verdict.invented


def test_invented_values_are_missing() -> None:
    request = "What's the population of France?"
    arguments = {"origin": "London", "destination": "Berlin", "passengers": 2, "cabin": "economy", "direct": True}
    verdict = check_grounding(arguments, FLIGHT, Context(request))
    assert verdict.missing == ["London", "Berlin", "2"]
    assert verdict.invented


def test_one_invented_value_among_grounded_ones() -> None:
    request = "Fly me from Paris to Tokyo."
    arguments = {"origin": "Paris", "destination": "Tokyo", "passengers": 4, "cabin": "business", "direct": False}
    assert grounding(arguments, request) == ["4"]


@pytest.mark.parametrize(
    ("value", "request_text"),
    [
        (3, "three people"),
        (12, "a dozen eggs"),
        (0.05, "an interest rate of 5%"),
        (5, "a rate of 0.05"),
        (1500000, "revenue of 1,500,000 dollars"),
        (1000000, "revenues of $1M"),
        (2500, "2.5k steps"),
        (50_000_000, "a payout of 50 million USD"),
        (7, "the next week"),
        (34, "the points A(3,4) and B(34,5)"),
        (22, "scores [22,33,42]"),
        (-3.5, "a temperature of -3.5 degrees"),
        (-7, "the equation 5x^2 - 7x + 3 = 0"),  # the sign stands apart from the number
        (-4, "minus 4 degrees"),
        (2, "两位乘客"),
        (120, "block two hours"),
        (60, "for an hour"),
        (90, "1.5 hours"),
        (60, "the first free hour"),
    ],
)
def test_numbers_in_their_usual_spellings(value: float, request_text: str) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}
    assert grounding({"n": value}, request_text, schema) == []


def test_numbers_are_compared_by_value_not_by_digits() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}
    assert grounding({"n": 12}, "1 2 and 21", schema) == ["12"]
    assert grounding({"n": 2}, "in 2023", schema) == ["2"]


@pytest.mark.parametrize(
    ("value", "request_text", "found"),
    [
        ("new york", "Weather in New York City?", True),
        ("New York, NY", "weather in new york", True),  # one word of the value is enough
        ("gas", "a gasoline car", True),  # a short word that starts a word of the request
        ("restaurants", "find a restaurant", True),  # a shared stem of five letters
        ("USD", "convert dollars", True),  # upper-case codes are derived, not copied: unchecked
        ("Lyon", "Weather in Paris?", False),
        ("2023-01-01", "check in on 2024-05-02", False),
        ("2024-05-02", "check in on May 2, 2024", True),
        ("the", "nothing here", False),
        ("15:00", "at 3pm", True),
        ("15:00", "下午3点", True),
        ("13:30", "at 1:30 in the afternoon", True),
        ("09:30", "at 9.30", True),
        ("18:00", "at noon", False),
        ("km", "15 kilometers into miles", True),  # a lower-case short form of a word of the request
        ("mi", "15 kilometers into miles", True),
        ("kg", "15 kilometers into miles", False),
        ("lbs", "15 kilometers into miles", False),
    ],
)
def test_text_values(value: str, request_text: str, found: bool) -> None:
    schema = {"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]}
    assert (grounding({"s": value}, request_text, schema) == []) is found


def test_composed_strings_and_optional_arguments_are_not_checked() -> None:
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string"}, "query": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["code", "query"],
    }
    arguments = {"code": "print(sum(range(10)))", "query": "hotels with a pool near the old harbour", "limit": 99}
    verdict = check_grounding(arguments, schema, Context("Run something."))
    assert verdict.checked == 0 and verdict.missing == [] and not verdict.invented


def test_lists_and_nested_objects() -> None:
    schema = {
        "type": "object",
        "properties": {
            "cities": {"type": "array", "items": {"type": "string"}},
            "point": {
                "type": "object",
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"],
            },
        },
        "required": ["cities", "point"],
    }
    request = "Compare Paris and Rome around 48.8, 2.35"
    assert grounding({"cities": ["Paris", "Rome", "Oslo"], "point": {"lat": 48.8, "lon": 2.35}}, request, schema) == []
    # A list none of whose elements occur is invented as a whole; a nested object is checked field by field.
    missing = grounding({"cities": ["Oslo", "Bern"], "point": {"lat": 48.8, "lon": 9.9}}, request, schema)
    assert missing == ["Oslo", "Bern", "9.9"]


# -- the engine --------------------------------------------------------------------------------------------------
def test_auto_call_with_invented_values_becomes_a_text_answer() -> None:
    invented = call_text(("get_weather", {"city": "London"}))
    model = ScriptedModel([invented, "I can only look up the weather. Which city do you mean?"])
    ask = [Message(role="user", content="What is the capital of Australia?")]

    result = Engine(model, NO_PLAN).chat(ask, tools=TOOLS)

    assert result.message.tool_calls is None
    assert result.message.content == "I can only look up the weather. Which city do you mean?"
    assert result.finish_reason == "stop"
    assert [a.stage for a in result.attempts] == ["answer", "answer"]
    assert "values not found in the conversation: get_weather (London)" in (result.attempts[0].error or "")
    # The model is told why, and answers under the words-only constraint.
    assert "Do not call a function now: get_weather (London)" in model.prompts[-1]
    assert model.constrained[-1]


def test_auto_call_with_grounded_values_is_kept() -> None:
    model = ScriptedModel([call_text(("get_weather", {"city": "Paris"}))])
    ask = [Message(role="user", content="What's the weather in Paris?")]
    result = Engine(model, NO_PLAN).chat(ask, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Paris"})]


def test_only_the_grounded_calls_of_a_parallel_answer_are_kept() -> None:
    both = call_text(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Madrid"}))
    model = ScriptedModel([both])
    ask = [Message(role="user", content="What's the weather in Paris?")]
    result = Engine(model, NO_PLAN).chat(ask, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Paris"})]


def test_after_a_tool_result_computed_values_are_not_questioned() -> None:
    earlier = ToolCall.make("convert_currency", {"amount": 10, "from_currency": "EUR", "to_currency": "USD"})
    conversation = [
        Message(role="user", content="Convert 10 euros to dollars, then twice that to yen."),
        Message(role="assistant", tool_calls=[earlier]),
        Message(role="tool", tool_call_id=earlier.id, name="convert_currency", content='{"amount": 10.87}'),
    ]
    doubled = call_text(("convert_currency", {"amount": 21.74, "from_currency": "USD", "to_currency": "JPY"}))
    result = Engine(ScriptedModel([doubled]), NO_PLAN).chat(conversation, tools=TOOLS)
    assert summary(result) == [("convert_currency", {"amount": 21.74, "from_currency": "USD", "to_currency": "JPY"})]


def test_values_from_earlier_tool_results_count() -> None:
    earlier = ToolCall.make("convert_currency", {"amount": 10, "from_currency": "EUR", "to_currency": "USD"})
    conversation = [
        Message(role="user", content="How much is 10 euros in dollars, and then that in yen?"),
        Message(role="assistant", tool_calls=[earlier]),
        Message(role="tool", tool_call_id=earlier.id, name="convert_currency", content='{"amount": 10.87}'),
    ]
    model = ScriptedModel(
        [call_text(("convert_currency", {"amount": 10.87, "from_currency": "USD", "to_currency": "JPY"}))]
    )
    result = Engine(model, NO_PLAN).chat(conversation, tools=TOOLS)
    assert summary(result) == [("convert_currency", {"amount": 10.87, "from_currency": "USD", "to_currency": "JPY"})]


@pytest.mark.parametrize(
    ("options", "choice"),
    [(CallingOptions(plan_calls=False, constrained=False, ground_calls=False), "auto"), (NO_PLAN, "required")],
    ids=["option-off", "required"],
)
def test_invented_calls_stand_when_the_option_is_off_or_a_call_is_required(
    options: CallingOptions, choice: str
) -> None:
    model = ScriptedModel([call_text(("get_weather", {"city": "London"}))])
    ask = [Message(role="user", content="What is the capital of Australia?")]
    result = Engine(model, options).chat(ask, tools=TOOLS, tool_choice=choice)
    assert summary(result) == [("get_weather", {"city": "London"})]


def test_zero_and_one_are_implied_not_checked() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "m": {"type": "integer"}},
        "required": ["n", "m"],
    }
    verdict = check_grounding({"n": 1, "m": 0}, schema, Context("Book me a flight with no stopover."))
    assert verdict.checked == 0 and verdict.missing == []


def test_zero_and_one_in_a_list_are_data_and_checked() -> None:
    point = {"type": "array", "items": {"type": "number"}}
    schema = {"type": "object", "properties": {"a": point, "b": point}, "required": ["a", "b"]}
    invented = check_grounding({"a": [0, 0], "b": [1, 1]}, schema, Context("Factor the polynomial 4x^2 - 9."))
    assert invented.invented
    given = check_grounding({"a": [0, 0], "b": [3, 4]}, schema, Context("How far is (3, 4) from (0, 0)?"))
    assert given.checked == 4 and given.complete


# -- optional arguments ------------------------------------------------------------------------------------------
def test_guessed_optional_arguments_are_dropped() -> None:
    schema = {
        "type": "object",
        "properties": {
            "player": {"type": "string"},
            "season": {"type": "string"},
            "league": {"type": "string"},
            "detail": {"type": "string", "enum": ["short", "full"]},
            "limit": {"type": "integer"},
        },
        "required": ["player"],
    }
    request = Context("Stats of Cristiano Ronaldo in the Premier League, top 5")
    arguments = {"player": "Someone Else", "season": "2023", "league": "Premier League", "detail": "full", "limit": 5}
    kept = drop_ungrounded_optional(arguments, schema, request)
    # The required value is never dropped (that is check_grounding's business); enums are choices: kept.
    assert kept == {"player": "Someone Else", "league": "Premier League", "detail": "full", "limit": 5}


def test_grounded_and_enum_options_are_kept() -> None:
    guessed = call_text(("get_weather", {"city": "Paris", "unit": "celsius"}))  # enum: kept
    ask = [Message(role="user", content="How much is 20 EUR in USD?")]
    guessing = call_text(("convert_currency", {"amount": 20, "from_currency": "EUR", "to_currency": "USD"}))
    for choice in ("auto", "required"):
        result = Engine(ScriptedModel([guessed]), NO_PLAN).chat(
            [Message(role="user", content="Weather in Paris?")], tools=TOOLS, tool_choice=choice
        )
        assert summary(result) == [("get_weather", {"city": "Paris", "unit": "celsius"})]
        result = Engine(ScriptedModel([guessing]), NO_PLAN).chat(ask, tools=TOOLS, tool_choice=choice)
        assert summary(result) == [("convert_currency", {"amount": 20, "from_currency": "EUR", "to_currency": "USD"})]


OPTIONAL_TOOL = {
    "type": "function",
    "function": {
        "name": "find_events",
        "description": "Find events in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "genre": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}


@pytest.mark.parametrize(
    ("options", "choice", "expected"),
    [
        (NO_PLAN, "auto", {"city": "Oslo", "genre": "rock"}),
        (NO_PLAN, "required", {"city": "Oslo", "genre": "rock"}),
        (CallingOptions(plan_calls=False, constrained=False, ground_optional=False), "auto", None),
    ],
    ids=["auto", "required", "off"],
)
def test_the_engine_drops_an_optional_value_nobody_gave(
    options: CallingOptions, choice: str, expected: dict[str, Any] | None
) -> None:
    arguments = {"city": "Oslo", "genre": "rock", "days": 14}
    model = ScriptedModel([call_text(("find_events", arguments))])
    ask = [Message(role="user", content="Rock concerts in Oslo?")]
    result = Engine(model, options).chat(ask, tools=[OPTIONAL_TOOL], tool_choice=choice)
    assert summary(result) == [("find_events", expected or arguments)]


# -- the self-check ----------------------------------------------------------------------------------------------
SELF_CHECK = CallingOptions(plan_calls=False, constrained=False, self_check=True)
ASK_OSLO = [Message(role="user", content="What's the weather in Oslo?")]
LONDON = call_text(("get_weather", {"city": "London"}))


def test_the_self_check_lets_the_model_fix_its_values() -> None:
    model = ScriptedModel([LONDON, call_text(("get_weather", {"city": "Oslo"}))])
    result = Engine(model, SELF_CHECK).chat(ASK_OSLO, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Oslo"})]
    # The model saw its own call and which values the request lacks.
    assert f"<|im_start|>assistant\n{LONDON}<|im_end|>" in model.prompts[1]
    assert "Check that call against my request: get_weather (London)" in model.prompts[1]


def test_the_self_check_may_end_in_words() -> None:
    model = ScriptedModel([LONDON, "No tool needed: it is usually mild."])
    result = Engine(model, SELF_CHECK).chat(ASK_OSLO, tools=TOOLS)
    assert result.message.tool_calls is None and result.message.content == "No tool needed: it is usually mild."


def test_the_self_check_runs_once_then_the_call_is_dropped() -> None:
    # The model repeats the invented value; the check's own words do not count as grounding.
    model = ScriptedModel([LONDON, LONDON, "Which city do you mean?"])
    result = Engine(model, SELF_CHECK).chat(ASK_OSLO, tools=TOOLS)
    assert result.message.content == "Which city do you mean?"
    assert len(model.prompts) == 3


# -- the request restated after tool results (remind_request) -------------------------------------------------
def test_the_request_is_restated_under_the_latest_result_only_when_asked() -> None:
    earlier = ToolCall.make("get_weather", {"city": "Paris"})
    conversation = [
        Message(role="user", content="Weather in Paris, then convert 20 EUR to USD."),
        Message(role="assistant", tool_calls=[earlier]),
        Message(role="tool", tool_call_id=earlier.id, name="get_weather", content='{"temp": 21}'),
    ]
    for remind, shown in ((True, True), (False, False)):
        model = ScriptedModel(["It is 21 degrees."])
        options = CallingOptions(plan_calls=False, constrained=False, remind_request=remind)
        Engine(model, options).chat(conversation, tools=TOOLS)
        note = "(My request was: Weather in Paris, then convert 20 EUR to USD.\nIf it needs another function call"
        assert (note in model.prompts[0]) is shown
    # Nothing to restate before any result.
    assert HERMES.remind_request(conversation[:1]) == conversation[:1]


def test_initials_are_found_in_consecutive_words() -> None:
    context = Context("Compare a petrol car with an electric vehicle over 12000 km.")
    assert context.has_initials("EV")
    assert context.has_initials("pc")  # "petrol car"
    assert not context.has_initials("VE")  # the order counts
    assert not context.has_initials("e")  # one letter is no short form


def test_an_id_is_found_only_whole() -> None:
    context = Context("Book the cheapest hotel in Madrid for two nights, then cancel booking BK-7001.")
    assert not context.has_text("HT-MAD-1")  # no part of an id stands for it
    assert context.has_text("BK-7001") and context.has_text("bk-7001")
    assert not context.has_text("BK-7002")
    assert context.has_text("Madrid")  # names are found as before
    schema = {"type": "object", "properties": {"hotel_id": {"type": "string"}}, "required": ["hotel_id"]}
    assert check_grounding({"hotel_id": "HT-MAD-1"}, schema, context).missing == ["HT-MAD-1"]


@pytest.mark.parametrize(
    ("request_text", "found"),
    [
        ("Make a bar chart of units per item.", False),  # the article is not column A
        ("Sort the sheet by column A.", True),
        ("把A列按降序排序。", True),
        ("Is it true that I am late?", True),  # "I" as written
    ],
)
def test_a_capital_letter_is_found_only_as_written(request_text: str, found: bool) -> None:
    value = "I" if "I am" in request_text else "A"
    assert Context(request_text).has_text(value) is found


PIZZA = {
    "type": "object",
    "properties": {
        "size": {"type": "string"},
        "toppings": {"type": "array", "items": {"type": "string", "enum": ["olives", "peppers", "onions", "ham"]}},
        "extras": {"type": "array", "items": {"type": "string", "enum": ["Extra cheese", "Parking", "Gift card"]}},
        "names": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["size"],
}


def test_a_list_of_choices_is_cut_to_those_the_user_named() -> None:
    context = Context("A large pizza with olives and onions, please.")
    every = {"size": "large", "toppings": ["olives", "peppers", "onions", "ham"]}
    assert without_unsaid_options(every, PIZZA, context)["toppings"] == ["olives", "onions"]
    # Choices of free strings are data, not choices: left alone.
    names = {"size": "large", "names": ["Ana", "Bo"]}
    assert without_unsaid_options(names, PIZZA, context) == names


def test_a_list_of_choices_none_of_them_named_whole_is_kept() -> None:
    # "extra cheese" is not said whole ("cheese" alone is): nothing is named, nothing is cut.
    context = Context("A large pizza with cheese.")
    arguments = {"size": "large", "extras": ["Extra cheese", "Gift card"]}
    assert without_unsaid_options(arguments, PIZZA, context) == arguments
    one = {"size": "large", "toppings": ["peppers"]}  # one choice: nothing to cut from
    assert without_unsaid_options(one, PIZZA, context) == one


def test_a_choice_close_to_the_users_words_is_kept() -> None:
    context = Context("A large pizza with extra cheese, and a place to park.")
    arguments = {"size": "large", "extras": ["Extra cheese", "Parking", "Gift card"]}
    # "Extra cheese" is named whole; "Parking" is close ("par…" as "park"): kept, as the user may mean it.
    assert without_unsaid_options(arguments, PIZZA, context)["extras"] == ["Extra cheese", "Parking"]


def order_pizza(size: str, toppings: list[str] | None = None) -> str:
    """Order a pizza.

    Args:
        size: small, medium or large.
        toppings: What goes on it.
    """
    return "ordered"


@pytest.mark.parametrize("on", [True, False])
def test_the_engine_cuts_choices_nobody_named_with_ground_option_lists(on: bool) -> None:
    from rixin.tools import tool

    order = tool(order_pizza)
    order.parameters["properties"]["toppings"]["items"] = {"type": "string", "enum": ["olives", "peppers", "ham"]}
    ask = [Message(role="user", content="Order a large pizza with olives.")]
    every = ("order_pizza", {"size": "large", "toppings": ["olives", "peppers", "ham"]})
    options = CallingOptions(plan_calls=False, constrained=False, ground_option_lists=on)
    result = Engine(ScriptedModel([call_text(every)]), options).chat(ask, tools=[order])
    toppings = ["olives"] if on else ["olives", "peppers", "ham"]
    assert summary(result) == [("order_pizza", {"size": "large", "toppings": toppings})]


LEAGUE = {
    "type": "object",
    "properties": {
        "league": {"type": "string"},
        "season": {"type": "string"},
        "timezone": {"type": "string"},
        "city": {"type": "string"},
        "kind": {"type": "string", "enum": ["2021 cup", "cup"]},
    },
}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"league": "2021 La Liga", "season": "2021"}, {"league": "La Liga", "season": "2021"}),
        ({"league": "La Liga 2020-2021", "season": "2020-2021"}, {"league": "La Liga", "season": "2020-2021"}),
        ({"league": "La Liga of 2021", "season": 2021}, {"league": "La Liga", "season": 2021}),  # a number too
        ({"timezone": "Asia/Tokyo", "city": "Tokyo"}, {"timezone": "Asia/Tokyo", "city": "Tokyo"}),  # no digit
        ({"league": "La Liga2021", "season": "2021"}, {"league": "La Liga2021", "season": "2021"}),  # no space
        ({"league": "2021", "season": "2021"}, {"league": "2021", "season": "2021"}),  # nothing would be left
        ({"kind": "2021 cup", "season": "2021"}, {"kind": "2021 cup", "season": "2021"}),  # a declared choice
    ],
)
def test_numbers_folded_into_a_string_are_taken_off(arguments: dict[str, Any], expected: dict[str, Any]) -> None:
    assert without_folded_values(arguments, LEAGUE, Context("")) == expected


@pytest.mark.parametrize("on", [True, False])
def test_the_engine_unfolds_values(on: bool) -> None:
    @tool
    def standings(league: str, season: str) -> str:
        """A league's table for a season.

        Args:
            league: The league.
            season: The season.
        """
        return "table"

    folded = ("standings", {"league": "2021 La Liga", "season": "2021"})
    model = ScriptedModel(["<tool_call>", listed(folded)])
    ask = [Message(role="user", content="The La Liga table of 2021, please.")]
    result = Engine(model, CallingOptions(plan_calls=False, unfold_values=on)).chat(ask, tools=[standings])
    assert summary(result) == [("standings", {"league": "La Liga" if on else "2021 La Liga", "season": "2021"})]
