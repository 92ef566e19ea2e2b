"""The relevance check (`ground_tools`): which tools share a word with a request, which are close to it in meaning
(the real sentence encoder), which calls are not checked, and the engine dropping a call of an unrelated tool whose
values the request did give."""

from __future__ import annotations

import pytest

from rixin.calling import CallingOptions, Engine
from rixin.calling.relevance import fits, names_written_ids, one_clause_tool, shares_words, tool_text, tool_words
from rixin.tools import tool
from rixin.types import Message

from .test_repair import ScriptedModel, call_text, summary

NO_PLAN = CallingOptions(plan_calls=False, constrained=False)

TIDE = tool_words(
    "tides.get_high_water",
    "High water times at a harbour on one day.",
    {
        "type": "object",
        "properties": {
            "harbour": {"type": "string", "description": "The harbour's name."},
            "unit": {"type": "string", "enum": ["metres", "feet"]},
        },
    },
)


def test_a_tool_fits_a_request_that_shares_a_word_with_it() -> None:
    assert shares_words("When is high water at Brest tomorrow?", TIDE)
    assert shares_words("Give me the tide height at Brest in feet", TIDE)  # an enum option is a word of the tool
    assert shares_words("Is the harbor at St Malo busy?", TIDE)  # four letters: "harbor" is "harbour"


def test_a_tool_that_shares_no_word_does_not_fit() -> None:
    # Including requests it fits in meaning: the reason for the encoder
    weather = tool_words("get_weather", "The current weather in a city.", {"properties": {"city": {}}})
    assert not shares_words("Is it raining in Dublin right now?", weather)
    assert not shares_words("How deep is the channel at Brest?", TIDE)
    assert not shares_words("What is the population of Brest?", TIDE)
    assert not shares_words("Find the ferry operators for Brest", TIDE)  # "find" says nothing


def test_question_words_stand_for_what_they_ask() -> None:
    dated = tool_words("event_lookup", "Look up an event.", {"properties": {"date": {"type": "string"}}})
    assert shares_words("When was the bridge opened?", dated)
    assert not shares_words("Why was the bridge opened?", dated)
    amount = tool_words("convert", "Convert money.", {"properties": {"amount": {"type": "number"}}})
    assert shares_words("How much is 20 pounds in yen?", amount)


def test_requests_in_other_scripts_are_not_checked() -> None:
    assert shares_words("明天布雷斯特的人口是多少？", TIDE)
    assert shares_words("帮我查一下 Brest 的人口", TIDE)  # mostly Chinese, one Latin name


WEATHER = ("get_weather", "Get the current weather for a city.", {"properties": {"city": {"type": "string"}}})


def test_a_tool_that_fits_in_meaning_fits() -> None:
    assert tool_text("geo.get_weather", "Now.") == "geo get weather: Now."
    fitting = ("Is it raining in Dublin right now?", "How warm is it in London?", "Do I need an umbrella in Oslo?")
    for request in fitting:
        assert fits(request, *WEATHER, min_similarity=0.15), request
    for request in ("How do I build a gaming PC?", "What does 'merci' mean in English?"):
        assert not fits(request, *WEATHER, min_similarity=0.15), request
    assert fits("How do I build a gaming PC?", *WEATHER, min_similarity=-1.0)  # the threshold decides


def test_calls_on_ids_the_request_wrote() -> None:
    assert names_written_ids("Put 0 in B4", {"cell": "B4", "value": 0})
    assert names_written_ids("Total B2:B7 please", {"range": "B2:B7"})
    assert names_written_ids("Drop booking bk-12", {"ids": ["BK-12"]})
    assert not names_written_ids("Put 0 in B4", {"cell": "C9", "value": 0})
    assert not names_written_ids("Brest in 2024", {"city": "Brest", "year": 2024})


def population(city: str) -> int:
    """The number of people living in a city.

    Args:
        city: The city's name.
    """
    return 0


def list_harbours(country: str) -> list[str]:
    """The harbours of a country.

    Args:
        country: The country.
    """
    return []


def test_the_engine_answers_in_words_instead_of_calling_an_unrelated_tool() -> None:
    tools = [tool(population)]
    ask = [Message(role="user", content="What time is sunrise in Lyon today?")]
    model = ScriptedModel([call_text(("population", {"city": "Lyon"})), "I cannot look up sunrise times."])

    result = Engine(model, NO_PLAN).chat(ask, tools=tools)

    assert result.message.tool_calls is None
    assert result.message.content == "I cannot look up sunrise times."
    assert result.attempts[0].error == "tools unrelated to the request: population"
    assert "Do not call a function now: population does not do what this request asks" in model.prompts[-1]

    off = CallingOptions(plan_calls=False, constrained=False, ground_tools=False)
    kept = Engine(ScriptedModel([call_text(("population", {"city": "Lyon"}))]), off).chat(ask, tools=tools)
    assert summary(kept) == [("population", {"city": "Lyon"})]


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city.
    """
    return "sunny"


def test_the_engine_keeps_a_call_that_fits_in_other_words() -> None:
    ask = [Message(role="user", content="Is it raining in Dublin right now?")]
    model = ScriptedModel([call_text(("get_weather", {"city": "Dublin"}))])
    result = Engine(model, NO_PLAN).chat(ask, tools=[tool(get_weather)])
    assert summary(result) == [("get_weather", {"city": "Dublin"})]


def test_the_engine_keeps_calls_of_tools_that_only_read() -> None:
    lookup = tool(list_harbours, read_only=True)
    ask = [Message(role="user", content="Cancel my sailing trip in France")]
    model = ScriptedModel([call_text(("list_harbours", {"country": "France"}))])
    result = Engine(model, NO_PLAN).chat(ask, tools=[lookup])
    assert summary(result) == [("list_harbours", {"country": "France"})]


def order_pizza(size: str, toppings: list[str] | None = None) -> str:
    """Order a pizza for delivery.

    Args:
        size: small, medium or large.
        toppings: What goes on the pizza.
    """
    return "ordered"


def track_order(order_id: str) -> str:
    """Track the delivery of a pizza order.

    Args:
        order_id: The order's id.
    """
    return "on its way"


def cancel_order(order_id: str) -> str:
    """Cancel a pizza order.

    Args:
        order_id: The order's id.
    """
    return "cancelled"


def test_one_clause_tool_is_the_best_fitting_of_those_called_for_one_clause() -> None:
    ordering, tracking = tool(order_pizza), tool(track_order)
    assert one_clause_tool("Order a large pizza for delivery.", [tracking, ordering]) is ordering
    # Two clauses may want two tools; one tool used leaves nothing to choose.
    assert one_clause_tool("Order a large pizza and track order P1.", [tracking, ordering]) is None
    assert one_clause_tool("Order a large pizza for delivery.", [ordering]) is None


@pytest.mark.parametrize("on", [True, False])
def test_the_engine_keeps_the_best_fitting_tool_of_one_clause(on: bool) -> None:
    ask = [Message(role="user", content="Order a large pizza for delivery.")]
    ordering, tracking, cancelling = tool(order_pizza), tool(track_order, read_only=True), tool(cancel_order)
    order = ("order_pizza", {"size": "large"})
    neighbours = [("cancel_order", {"order_id": "large"}), ("track_order", {"order_id": "large"})]
    options = CallingOptions(plan_calls=False, constrained=False, one_tool_per_clause=on, ground_calls=False)
    model = ScriptedModel([call_text(order, *neighbours)])
    result = Engine(model, options).chat(ask, tools=[ordering, tracking, cancelling])
    # The act of a neighbouring tool goes; a lookup stays (it may be the step an act needs).
    expected = [order, neighbours[1]] if on else [order, *neighbours]
    assert summary(result) == expected
