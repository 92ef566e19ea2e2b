"""The function-calling engine on the real embedded models (greedy decoding, so results are reproducible).

Qwen2.5-Coder-0.5B has a native tool template (the hermes family); SmolLM2-135M has none (the generic family:
tools are described in the system prompt and the grammar alone keeps its calls valid).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from rixin.calling import Engine, with_options
from rixin.calling.families import GENERIC, HERMES
from rixin.calling.prompt import render_prompt
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.models import Completion, LlamaModel
from rixin.tools import Tool, execute_call, tool
from rixin.types import ChatResult, GenerationOptions, Message, as_messages

pytestmark = pytest.mark.model


@tool
def add_numbers(a: int, b: int) -> int:
    """Add two integers and return their sum.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


TOOLS: list[Tool] = [get_weather, convert_currency, add_numbers]


def user(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def calls_of(result: ChatResult) -> list[tuple[str, dict[str, Any]]]:
    return [(c.function.name, c.parsed_arguments()) for c in result.message.tool_calls or []]


def assert_valid_calls(result: ChatResult, tools: list[Tool] = TOOLS) -> None:
    """Every returned call names an offered tool and its arguments pass that tool's JSON Schema."""
    assert result.error is None, result.error
    assert result.finish_reason == "tool_calls"
    assert result.message.tool_calls, result
    by_name = {t.name: t for t in tools}
    for call in result.message.tool_calls:
        assert call.type == "function" and call.id.startswith("call_")
        assert call.function.name in by_name
        arguments = json.loads(call.function.arguments)
        assert by_name[call.function.name].validate_arguments(arguments) == []
        jsonschema.validate(arguments, by_name[call.function.name].parameters)


def assert_text(result: ChatResult) -> str:
    assert result.error is None, result.error
    assert result.finish_reason in ("stop", "length")
    assert not result.message.tool_calls
    content = result.message.content
    assert content and content.strip()
    return content


def test_single_call(qwen_engine: Engine) -> None:
    assert qwen_engine.family is HERMES
    result = qwen_engine.chat(user("What's the weather in Paris?"), tools=TOOLS)
    assert_valid_calls(result)
    [(name, arguments)] = calls_of(result)
    assert name == "get_weather"
    assert arguments["city"] == "Paris"
    assert result.message.content is None
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    assert result.model == "qwen2.5-coder-0.5b"
    assert result.timings["total_s"] > 0


def test_parallel_calls(qwen_engine: Engine) -> None:
    result = qwen_engine.chat(user("What is the weather in Beijing and in Tokyo?"), tools=TOOLS)
    assert_valid_calls(result)
    assert [name for name, _ in calls_of(result)] == ["get_weather", "get_weather"]
    assert {arguments["city"] for _, arguments in calls_of(result)} == {"Beijing", "Tokyo"}
    ids = [c.id for c in result.message.tool_calls or []]
    assert len(set(ids)) == 2


def test_parallel_tool_calls_false_keeps_one_call(qwen_engine: Engine) -> None:
    result = qwen_engine.chat(
        user("What is the weather in Beijing and in Tokyo?"), tools=TOOLS, parallel_tool_calls=False
    )
    assert_valid_calls(result)
    [(name, arguments)] = calls_of(result)
    assert name == "get_weather" and arguments["city"] in ("Beijing", "Tokyo")


def test_no_call_needed_streams_text(qwen_engine: Engine) -> None:
    pieces: list[str] = []
    result = qwen_engine.chat(user("Write a haiku about autumn."), tools=TOOLS, on_text=pieces.append)
    content = assert_text(result)
    assert "".join(pieces) == content
    assert len(pieces) > 1
    assert "<tool_call>" not in content
    assert [a.stage for a in result.attempts] == ["decide", "answer"]


def test_own_tool_is_called_and_executed(qwen_engine: Engine) -> None:
    result = qwen_engine.chat(user("What is 12 plus 30?"), tools=TOOLS)
    assert_valid_calls(result)
    [call] = result.message.tool_calls or []
    assert call.parsed_arguments() == {"a": 12, "b": 30}
    reply = execute_call(TOOLS, call)
    assert reply.role == "tool" and reply.tool_call_id == call.id and reply.content == "42"


def test_required_on_small_talk_still_calls(qwen_engine: Engine) -> None:
    result = qwen_engine.chat(user("Hello! How are you today?"), tools=TOOLS, tool_choice="required")
    assert_valid_calls(result)
    stages = [a.stage for a in result.attempts]
    assert "decide" not in stages and "call" in stages  # no decision probe: a call is required


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("add_numbers", "add_numbers"),
        ({"type": "function", "function": {"name": "convert_currency"}}, "convert_currency"),
    ],
)
def test_named_tool_choice(qwen_engine: Engine, choice: Any, expected: str) -> None:
    result = qwen_engine.chat(user("What's the weather in Beijing and in Tokyo?"), tools=TOOLS, tool_choice=choice)
    assert_valid_calls(result)
    assert [name for name, _ in calls_of(result)] == [expected]  # exactly one call, to that tool


def test_tool_choice_none_answers_in_text(qwen_engine: Engine) -> None:
    result = qwen_engine.chat(user("What's the weather in Paris?"), tools=TOOLS, tool_choice="none")
    content = assert_text(result)
    assert "<tool_call>" not in content
    assert [a.stage for a in result.attempts] == ["answer"]


def test_answers_in_text_after_tool_results(qwen_engine: Engine) -> None:
    history = user("What's the weather in Paris?")
    first = qwen_engine.chat(history, tools=TOOLS)
    assert_valid_calls(first)
    history.append(first.message)
    for call in first.message.tool_calls or []:
        reply = execute_call(TOOLS, call)
        assert '"temperature": 8' in (reply.content or "")
        history.append(reply)
    second = qwen_engine.chat(history, tools=TOOLS)
    content = assert_text(second)
    assert "8" in content


def test_response_format_json_schema(qwen_engine: Engine) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    result = qwen_engine.chat(
        user("Give me a JSON object describing a cat with its name and age."),
        response_format={"type": "json_schema", "json_schema": {"name": "cat", "schema": schema}},
    )
    value = json.loads(assert_text(result))
    jsonschema.validate(value, schema)


def test_response_format_json_object(qwen_engine: Engine) -> None:
    result = qwen_engine.chat(user("Describe a dog as JSON."), response_format={"type": "json_object"})
    assert isinstance(json.loads(assert_text(result)), dict)


Spy = list[tuple[bool, Completion]]


@pytest.fixture
def spy_on(monkeypatch: pytest.MonkeyPatch) -> Callable[[LlamaModel], Spy]:
    """Record every Completion the engine gets from a model, with the reuse_prefix it asked for."""

    def install(model: LlamaModel) -> Spy:
        seen: Spy = []
        real: Callable[..., Completion] = model.generate

        def spy(*args: Any, **kwargs: Any) -> Completion:
            completion = real(*args, **kwargs)
            seen.append((kwargs.get("reuse_prefix", True), completion))
            return completion

        monkeypatch.setattr(model, "generate", spy)
        return seen

    return install


def test_prefix_reuse_between_requests(
    qwen_engine: Engine, qwen_model: LlamaModel, spy_on: Callable[[LlamaModel], Spy]
) -> None:
    generations = spy_on(qwen_model)
    engine = with_options(qwen_engine, plan_calls=False)  # one generation per request: the call
    engine.chat(user("What's the weather in Paris?"), tools=TOOLS, tool_choice="required")
    engine.chat(user("What's the weather in London?"), tools=TOOLS, tool_choice="required")
    assert len(generations) == 2
    reuse, completion = generations[1]
    assert reuse is True
    # At least the system prompt with the tools was still in the KV cache.
    prompt = render_prompt(qwen_model.info.chat_template, HERMES, as_messages(user("x")), TOOLS)
    shared = prompt.split("<|im_start|>user")[0]
    assert completion.cached_tokens >= len(qwen_model.tokenize(shared)) - 1
    assert completion.cached_tokens < completion.prompt_tokens


def test_no_prefix_reuse_when_switched_off(smol_engine: Engine, spy_on: Callable[[LlamaModel], Spy]) -> None:
    assert isinstance(smol_engine.model, LlamaModel)
    generations = spy_on(smol_engine.model)
    engine = with_options(smol_engine, reuse_prefix=False, plan_calls=False)
    for _ in range(2):  # the same request twice: the second would be almost entirely cached
        engine.chat(user("What's the weather in Paris?"), tools=[get_weather], tool_choice="required")
    assert len(generations) == 2
    assert all(reuse is False for reuse, _ in generations)
    assert [completion.cached_tokens for _, completion in generations] == [0, 0]
    # and with reuse on, the same request does hit the cache
    with_options(smol_engine, plan_calls=False).chat(
        user("What's the weather in Paris?"), tools=[get_weather], tool_choice="required"
    )
    reuse, completion = generations[-1]
    assert reuse is True and completion.cached_tokens == completion.prompt_tokens - 1


def test_generic_family_call_under_constraint(smol_engine: Engine) -> None:
    assert smol_engine.family is GENERIC
    tools = [get_weather, convert_currency]
    result = smol_engine.chat(user("What's the weather in Paris?"), tools=tools, tool_choice="required")
    assert_valid_calls(result, tools)
    assert result.attempts[-1].error is None


def test_generic_family_named_choice(smol_engine: Engine) -> None:
    result = smol_engine.chat(user("Convert 100 USD to EUR."), tools=TOOLS, tool_choice="convert_currency")
    assert_valid_calls(result)
    assert [name for name, _ in calls_of(result)] == ["convert_currency"]


def test_tiny_max_tokens_under_required_never_raises(qwen_engine: Engine) -> None:
    result = qwen_engine.chat(
        user("What's the weather in Paris?"),
        tools=TOOLS,
        tool_choice="required",
        options=GenerationOptions(max_tokens=5),
    )
    if result.error is None:
        assert_valid_calls(result)
    else:
        assert result.finish_reason == "error"
        assert not result.message.tool_calls
        assert "cut off at max_tokens" in result.error
        assert all(a.completion_tokens <= 5 for a in result.attempts)
