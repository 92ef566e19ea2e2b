"""`complete_clauses`: before any result, a clause whose best-fitting tool no call used gets the model to continue
its list of calls with that tool (scripted model, real grammars)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import llguidance
import pytest

from rixin.calling import CallingOptions, Engine
from rixin.calling.constrain import CallListConstraint, continued_list_grammar
from rixin.calling.relevance import best_tool_for
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.tools import tool
from rixin.types import Message

from .test_repair import TOOLS, ScriptedModel, listed, summary, tagged

COMPLETE = CallingOptions(plan_calls=False, complete_clauses=True)
WEATHER = ("get_weather", {"city": "Paris"})
MONEY = ("convert_currency", {"amount": 20, "from_currency": "EUR", "to_currency": "USD"})
TWO_TASKS = [Message(role="user", content="What is the weather in Paris? Then convert 20 EUR to USD.")]


def continued(*calls: tuple[str, dict[str, Any]]) -> str:
    """The rest of a list of calls that the prompt opened, as the continued-list grammar produces it."""
    body = ", ".join(json.dumps({"name": n, "arguments": a}) for n, a in calls)
    return f" {body}]\n</tool_call>"


def test_a_clause_no_call_served_gets_its_call_by_continuing_the_list() -> None:
    model = ScriptedModel(["<tool_call>", listed(WEATHER), continued(MONEY)])
    result = Engine(model, COMPLETE).chat(TWO_TASKS, tools=TOOLS)
    assert summary(result) == [WEATHER, MONEY]
    assert [a.stage for a in result.attempts] == ["decide", "call", "clauses"]
    # the model sees its own first call written out, the list still open
    assert model.prompts[-1].endswith('<tool_call>\n[{"name": "get_weather", "arguments": {"city": "Paris"}},')


def test_the_continued_calls_are_grounded_like_the_first() -> None:
    invented = ("convert_currency", {"amount": 75, "from_currency": "EUR", "to_currency": "USD"})
    model = ScriptedModel(["<tool_call>", listed(WEATHER), continued(invented)])
    result = Engine(model, COMPLETE).chat(TWO_TASKS, tools=TOOLS)
    assert summary(result) == [WEATHER]  # 75 is nowhere in the request


def test_a_repeat_of_a_call_made_adds_nothing() -> None:
    model = ScriptedModel(["<tool_call>", listed(WEATHER, MONEY)])
    result = Engine(model, COMPLETE).chat(TWO_TASKS, tools=TOOLS)
    assert summary(result) == [WEATHER, MONEY] and model.outputs == []  # every clause served: no continuation


@pytest.mark.parametrize(
    ("options", "request_text", "named"),
    [
        (CallingOptions(plan_calls=False), TWO_TASKS[0].content, False),  # the option is off
        (COMPLETE, "What is the weather in Paris?", False),  # one clause
        (COMPLETE, TWO_TASKS[0].content, True),  # a named tool: one call asked for
    ],
)
def test_no_continuation_where_it_does_not_apply(options: CallingOptions, request_text: str, named: bool) -> None:
    model = ScriptedModel([tagged(WEATHER)] if named else ["<tool_call>", listed(WEATHER)])
    choice: Any = {"type": "function", "function": {"name": "get_weather"}} if named else "auto"
    ask = [Message(role="user", content=request_text)]
    result = Engine(model, options).chat(ask, tools=TOOLS, tool_choice=choice)
    assert summary(result) == [WEATHER] and "clauses" not in [a.stage for a in result.attempts]


def test_no_continuation_after_a_lookup() -> None:
    # a tool that only reads may be the first step: the other clauses may need its result
    looking = [dataclasses.replace(get_weather, read_only=True), convert_currency]
    model = ScriptedModel(["<tool_call>", listed(WEATHER)])
    result = Engine(model, COMPLETE).chat(TWO_TASKS, tools=looking)
    assert summary(result) == [WEATHER] and model.outputs == []


def test_no_continuation_with_calls_one_per_reply() -> None:
    model = ScriptedModel(["<tool_call>", tagged(WEATHER)])
    result = Engine(model, COMPLETE).chat(TWO_TASKS, tools=TOOLS, parallel_tool_calls=False)
    assert summary(result) == [WEATHER] and model.outputs == []


@tool
def crop_history(country: str, crop: str, years: int) -> str:
    """Historical crop yield of a crop in a country.

    Args:
        country: The country.
        crop: The crop.
        years: Years of history.
    """
    return ""


@tool
def animal_history(country: str, species: str, years: int) -> str:
    """Historical population size of an animal species in a country.

    Args:
        country: The country.
        species: The species.
        years: Years of history.
    """
    return ""


def test_the_best_tool_needs_two_shared_words_and_no_tie() -> None:
    tools = [crop_history, animal_history, get_weather, convert_currency]
    assert best_tool_for("the population of tigers over the years", tools) is animal_history
    assert best_tool_for("history over the years", tools) is None  # a tie between the two histories
    assert best_tool_for("and provide the weather", tools) is None  # one shared word is not enough
    assert best_tool_for("天气怎么样，换算一下汇率", tools) is None  # not in the tools' script


def test_the_continued_list_grammar_takes_more_calls_and_closes_the_list() -> None:
    lark = continued_list_grammar([convert_currency], close_tag="</tool_call>", tags_are_tokens=False, max_calls=2)
    tokenizer = llguidance.LLTokenizer("byte")

    def accepts(text: str) -> bool:
        constraint = CallListConstraint(tokenizer, lark, tokenizer.vocab_size, greedy=True, continue_bias=4.0)
        constraint.continues("\n[{}, ")
        return all(constraint.accept(b) for b in text.encode()) and constraint.is_accepting()

    assert accepts(continued(MONEY))
    assert accepts(continued(MONEY, MONEY))
    assert not accepts(continued(MONEY, MONEY, MONEY))  # beyond max_calls
    assert not accepts(continued(WEATHER))  # only the tools given
