"""Retrieved few-shot examples (`CallingOptions.few_shot`): the library is verified, retrieval finds the
nearest examples, and the prompt shows them in the family's own call format."""

from __future__ import annotations

import json

from rixin.calling import CallingOptions, Engine
from rixin.calling.families import GENERIC, HERMES
from rixin.calling.fewshot import Example, library, nearest_examples
from rixin.tools import tool_from_openai
from rixin.types import Message

from .test_repair import TOOLS, ScriptedModel, call_text, summary


def test_every_library_call_validates_against_its_tool() -> None:
    assert len(library()) >= 40
    for example in library():
        tools = {t.name: t for t in (tool_from_openai(spec) for spec in example.tools)}
        for call in example.calls:
            assert call["name"] in tools, example.request
            assert tools[call["name"]].validate_arguments(call["arguments"]) == [], example.request
        # A no-call example says what to answer instead.
        assert example.calls or example.answer


def test_the_library_teaches_every_kind_of_answer() -> None:
    kinds = [len(e.calls) for e in library()]
    assert kinds.count(1) >= 15  # one call
    assert sum(n >= 2 for n in kinds) >= 8  # parallel calls
    assert kinds.count(0) >= 10  # no tool fits, or a required value is missing


def test_retrieval_finds_examples_that_share_the_request_s_words() -> None:
    for example in library()[:10]:
        assert nearest_examples(example.request, 1) == [example]
    assert len(nearest_examples(library()[0].request, 3)) == 3
    assert nearest_examples("zzzz qqqq", 3) == []
    assert nearest_examples(library()[0].request, 0) == []


EXAMPLE = Example(
    request="GCD of 48 and 36, and of 10 and 4?",
    tools=[
        {
            "type": "function",
            "function": {
                "name": "math.gcd",
                "description": "Greatest common divisor.",
                "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
            },
        }
    ],
    calls=[{"name": "math.gcd", "arguments": {"a": 48, "b": 36}}, {"name": "math.gcd", "arguments": {"a": 10, "b": 4}}],
)


def test_examples_are_written_in_the_family_s_call_format() -> None:
    text = HERMES.examples_prompt([EXAMPLE])
    listed = json.dumps(EXAMPLE.calls)
    assert f"User: {EXAMPLE.request}\nTools:\nmath.gcd(a: integer, b: integer) — Greatest common divisor." in text
    assert f"Assistant: <tool_call>\n{listed}\n</tool_call>" in text
    no_list = GENERIC.__class__(**{**GENERIC.__dict__, "parallel_as_list": False})
    assert no_list.examples_prompt([EXAMPLE]).count("<tool_call>") == 2
    answer = Example(request="Who wrote Hamlet?", tools=EXAMPLE.tools, calls=[], answer="Shakespeare.")
    assert "Assistant: Shakespeare." in HERMES.examples_prompt([answer])


def test_examples_join_an_existing_system_message_or_open_one() -> None:
    plain = [Message(role="user", content="hi")]
    opened = HERMES.with_examples(plain, [EXAMPLE])
    assert opened[0].role == "system" and opened[0].content.startswith("Examples of good answers")  # type: ignore[union-attr]
    assert opened[1:] == plain
    joined = HERMES.with_examples([Message(role="system", content="Be brief."), *plain], [EXAMPLE])
    assert len(joined) == 2 and joined[0].content.startswith("Be brief.\n\nExamples")  # type: ignore[union-attr]
    assert HERMES.with_examples(plain, []) == plain


def test_the_engine_shows_examples_only_when_asked() -> None:
    ask = [Message(role="user", content="What's the weather in Paris?")]
    for few_shot, shown in ((2, True), (0, False)):
        model = ScriptedModel([call_text(("get_weather", {"city": "Paris"}))])
        options = CallingOptions(constrained=False, plan_calls=False, few_shot=few_shot)
        result = Engine(model, options).chat(ask, tools=TOOLS)
        assert summary(result) == [("get_weather", {"city": "Paris"})]
        assert ("Examples of good answers" in model.prompts[0]) is shown
