"""Validation and repair in the function-calling engine, driven by a scripted model.

Why a scripted stand-in here (and only here): under the schema constraint a real model practically never emits
an invalid call, so the repair loop cannot be exercised on demand with a real model. `ScriptedModel` is a
`LlamaModel` whose `__init__` loads nothing and whose `generate` returns prepared outputs, recording every
prompt it was given. Its tokens are UTF-8 bytes, which lets it use llguidance's byte tokenizer: the tests that
need a real grammar (the stop-repeats rule ends with a text-only constraint) run the engine's constraints on
the scripted text for real. Everything else runs with `CallingOptions(constrained=False)`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import llguidance
import pytest

from rixin.calling import CallingOptions, Engine, with_options
from rixin.calling.engine import _unanswered
from rixin.calling.families import HERMES
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.errors import ToolSchemaError
from rixin.models.llama import Completion, LlamaModel, ModelInfo, TokenConstraint
from rixin.tools import tool
from rixin.types import ChatResult, GenerationOptions, Message, ToolCall

# A minimal Hermes-style ChatML template: renders `tools`, earlier calls in <tool_call> tags, tool results.
HERMES_TEMPLATE = (
    "{%- if tools %}{{ '<|im_start|>system\\n' }}"
    "{%- if messages[0].role == 'system' %}{{ messages[0].content + '\\n\\n' }}{% endif %}"
    "{{ '# Tools\\n<tools>' }}{% for tool in tools %}{{ '\\n' + (tool | tojson) }}{% endfor %}"
    "{{ '\\n</tools>\\nCall a function inside <tool_call></tool_call> tags.<|im_end|>\\n' }}"
    "{%- elif messages[0].role == 'system' %}{{ '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for m in messages %}"
    "{%- if m.role == 'system' %}"
    "{%- elif m.role == 'assistant' and m.tool_calls %}{{ '<|im_start|>assistant' }}"
    "{%- if m.content %}{{ '\\n' + m.content }}{% endif %}"
    '{%- for c in m.tool_calls %}{{ \'\\n<tool_call>\\n{"name": "\' + c.function.name + \'", "arguments": \' }}'
    "{{- (c.function.arguments | tojson) + '}\\n</tool_call>' }}{% endfor %}{{ '<|im_end|>\\n' }}"
    "{%- elif m.role == 'tool' %}{{ '<|im_start|>user\\n<tool_response>\\n' + m.content }}"
    "{{- '\\n</tool_response><|im_end|>\\n' }}"
    "{%- else %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endif %}"
    "{%- endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

UNCONSTRAINED = CallingOptions(constrained=False)


class ScriptedModel(LlamaModel):
    """A LlamaModel that loads nothing and answers from a script. Tokens are UTF-8 bytes."""

    def __init__(self, outputs: Sequence[str], template: str = HERMES_TEMPLATE) -> None:  # no super(): no GGUF
        self._tokenizer = llguidance.LLTokenizer("byte")
        self.info = ModelInfo(
            name="scripted",
            path=Path("scripted.gguf"),
            architecture="scripted",
            chat_template=template,
            bos_token="",
            eos_token="<|im_end|>",
            n_ctx=32768,
            n_vocab=self._tokenizer.vocab_size,
            metadata={},
        )
        self.lock = threading.Lock()
        self.outputs = list(outputs)
        self.prompts: list[str] = []
        self.constrained: list[bool] = []

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        return list(text.encode("utf-8"))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return bytes(tokens).decode("utf-8", errors="replace")

    def constraint_tokenizer(self) -> Any:
        return self._tokenizer

    def generate(
        self,
        prompt: str | Sequence[int],
        options: GenerationOptions | None = None,
        *,
        constraint: TokenConstraint | None = None,
        on_text: Callable[[str], None] | None = None,
        stop_when: Callable[[str], bool] | None = None,
        reuse_prefix: bool = True,
    ) -> Completion:
        options = options or GenerationOptions()
        text_prompt = prompt if isinstance(prompt, str) else self.detokenize(prompt)
        self.prompts.append(text_prompt)
        self.constrained.append(constraint is not None)
        if not self.outputs:
            raise AssertionError(f"the script ran out; prompt was:\n{text_prompt}")
        script = self.outputs.pop(0).encode("utf-8")
        generated: list[int] = []
        finish, error = "stop", None
        for token in script:
            if len(generated) >= options.max_tokens:
                finish = "length"
                break
            if constraint is not None and not constraint.accept(token):
                finish, error = "constraint", f"token {token} rejected by the constraint"
                break
            generated.append(token)
            if on_text:
                on_text(chr(token))
            if stop_when is not None and stop_when(self.detokenize(generated)):
                # A deterministic model would go on the same way: keep the rest for the continuation.
                rest = script[len(generated) :].decode("utf-8")
                if rest:
                    self.outputs.insert(0, rest)
                break
        return Completion(
            text=self.detokenize(generated),
            tokens=generated,
            finish_reason=finish,
            prompt_tokens=len(self.tokenize(text_prompt)),
            cached_tokens=0,
            prompt_seconds=0.001,
            generation_seconds=0.002,
            error=error,
        )


# These scripts have no turn for the plan of the number of calls (plan_calls), so it is off here.
NO_PLAN = CallingOptions(plan_calls=False)


def call_text(*calls: tuple[str, dict[str, Any]]) -> str:
    return "\n".join(
        f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>" for name, arguments in calls
    )


VALID = call_text(("get_weather", {"city": "Paris"}))
ASK = [Message(role="user", content="What's the weather in Paris?")]
TOOLS = [get_weather, convert_currency]


def summary(result: ChatResult) -> list[tuple[str, dict[str, Any]]]:
    return [(c.function.name, c.parsed_arguments()) for c in result.message.tool_calls or []]


def assert_schema_valid(result: ChatResult) -> None:
    by_name = {t.name: t for t in TOOLS}
    for call in result.message.tool_calls or []:
        assert by_name[call.function.name].validate_arguments(call.parsed_arguments()) == []


INVALID_OUTPUTS = [
    pytest.param(
        call_text(("get_weather", {"city": 5})), "get_weather: city: 5 is not of type 'string'", id="wrong-type"
    ),
    pytest.param(call_text(("get_weather", {})), "get_weather: missing required argument 'city'", id="missing"),
    pytest.param(
        call_text(("get_weather", {"city": "Paris", "country": "FR"})),
        "get_weather: unexpected argument 'country'",
        id="extra-argument",
    ),
    pytest.param(
        call_text(("get_weather", {"city": "Paris", "unit": "kelvin"})),
        "get_weather: unit: 'kelvin' is not one of ['celsius', 'fahrenheit']",
        id="bad-enum",
    ),
    pytest.param(
        call_text(("get_wether", {"city": "Paris"})),
        "unknown function 'get_wether' (available: get_weather, convert_currency)",
        id="unknown-function",
    ),
    pytest.param(
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call>', "truncated call", id="bad-json"
    ),
    pytest.param("<tool_call>\nweather please\n</tool_call>", "unreadable tool call", id="not-json"),
]


@pytest.mark.parametrize(("invalid", "problem"), INVALID_OUTPUTS)
def test_invalid_call_is_repaired(invalid: str, problem: str) -> None:
    model = ScriptedModel([invalid, VALID])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="required")

    assert result.error is None
    assert result.finish_reason == "tool_calls"
    assert summary(result) == [("get_weather", {"city": "Paris"})]
    assert result.raw_output == VALID
    assert [a.stage for a in result.attempts] == ["call", "repair"]
    assert result.attempts[0].raw_output == invalid
    assert problem in (result.attempts[0].error or "")
    assert result.attempts[1].error is None
    # The repair prompt shows the model its own attempt and what was wrong with it.
    first, repair = model.prompts
    assert "not valid" not in first
    assert repair.startswith(first.removesuffix("<|im_start|>assistant\n"))
    assert f"<|im_start|>assistant\n{invalid}<|im_end|>" in repair
    assert f"That function call is not valid: {problem}" in repair
    assert repair.endswith("<|im_start|>assistant\n")
    assert result.usage.prompt_tokens == len(first.encode()) + len(repair.encode())
    assert result.usage.completion_tokens == len(invalid.encode()) + len(VALID.encode())
    assert model.outputs == []


def test_all_problems_of_one_call_are_reported() -> None:
    bad = call_text(("convert_currency", {"amount": "ten", "to_currency": 3}))
    model = ScriptedModel(
        [bad, call_text(("convert_currency", {"amount": 10, "from_currency": "USD", "to_currency": "EUR"}))]
    )
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="required")
    error = result.attempts[0].error or ""
    assert "amount: 'ten' is not of type 'number'" in error
    assert "missing required argument 'from_currency'" in error
    assert "to_currency: 3 is not of type 'string'" in error
    assert summary(result) == [("convert_currency", {"amount": 10, "from_currency": "USD", "to_currency": "EUR"})]


def test_invalid_every_time_gives_an_error_result_not_an_exception() -> None:
    bad = call_text(("get_weather", {"city": 5}))
    model = ScriptedModel([bad, bad, call_text(("get_weather", {}))])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="required")

    assert result.finish_reason == "error"
    assert result.error is not None
    assert result.error.startswith("no valid function call after 3 attempts")
    assert "missing required argument 'city'" in result.error  # the last attempt's problem
    assert result.message.tool_calls is None and result.message.content is None
    assert result.raw_output == call_text(("get_weather", {}))
    assert [a.stage for a in result.attempts] == ["call", "repair", "repair"]
    assert all(a.error for a in result.attempts)
    # each repair builds on the previous one: the last prompt holds both earlier attempts
    assert model.prompts[2].count("That function call is not valid") == 2
    assert result.to_openai_message() == {"role": "assistant", "content": None}


@pytest.mark.parametrize("max_repairs", [0, 1, 4])
def test_max_repairs_bounds_the_attempts(max_repairs: int) -> None:
    bad = call_text(("get_weather", {}))
    model = ScriptedModel([bad] * (max_repairs + 1))
    result = Engine(model, CallingOptions(constrained=False, max_repairs=max_repairs)).chat(
        ASK, tools=TOOLS, tool_choice="required"
    )
    assert len(result.attempts) == max_repairs + 1
    assert result.error is not None and f"after {max_repairs + 1} attempts" in result.error
    assert model.outputs == []


def test_required_with_prose_only_is_repaired_then_errors() -> None:
    prose = ["It is probably sunny in Paris.", "I believe it is sunny.", "Sunny, I think."]
    model = ScriptedModel(prose)
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="required")
    assert result.finish_reason == "error"
    assert result.error == "no valid function call after 3 attempts: no function call found in the output"
    assert result.message.content is None and not result.message.tool_calls
    assert [a.error for a in result.attempts] == ["no function call found in the output"] * 3
    assert "That function call is not valid: no function call found in the output." in model.prompts[1]


def test_required_with_prose_then_a_call() -> None:
    model = ScriptedModel(["Let me think about Paris.", VALID])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="required")
    assert summary(result) == [("get_weather", {"city": "Paris"})]
    assert result.attempts[0].error == "no function call found in the output"


def test_a_call_cut_off_at_max_tokens_is_reported_as_such() -> None:
    model = ScriptedModel([VALID, VALID, VALID])
    result = Engine(model, UNCONSTRAINED).chat(
        ASK, tools=TOOLS, tool_choice="required", options=GenerationOptions(max_tokens=20)
    )
    assert result.finish_reason == "error"
    assert result.error is not None and "the call was cut off at max_tokens" in result.error
    assert all(a.completion_tokens == 20 for a in result.attempts)


def find_card(rank: str, suit: str, deck: list[str] | None = None) -> str:
    """Find a card in a deck.

    Args:
        rank: The card's rank.
        suit: The card's suit.
        deck: The deck's cards; a full deck when left out.
    """
    return f"{rank} of {suit}"


# The model runs on through an optional argument until the limit (measured on the 1.5B: a whole deck of cards).
RUNAWAY = '<tool_call>\n{"name": "find_card", "arguments": {"rank": "Queen", "suit": "Hearts", "deck": ["Ace", "Two'
CUT_RUNAWAY = GenerationOptions(max_tokens=len(RUNAWAY))
RUNAWAY += '", "Three", "Four"]}}\n</tool_call>'


def test_a_call_cut_off_in_an_optional_argument_is_salvaged_without_it() -> None:
    model = ScriptedModel([RUNAWAY])
    ask = [Message(role="user", content="Find the Queen of Hearts.")]
    result = Engine(model, UNCONSTRAINED).chat(ask, tools=[find_card], tool_choice="required", options=CUT_RUNAWAY)
    assert summary(result) == [("find_card", {"rank": "Queen", "suit": "Hearts"})]
    assert result.finish_reason == "tool_calls" and len(result.attempts) == 1


def test_without_salvage_a_cut_call_goes_to_repair() -> None:
    model = ScriptedModel([RUNAWAY] * 3)
    ask = [Message(role="user", content="Find the Queen of Hearts.")]
    options = CallingOptions(constrained=False, salvage_truncated=False)
    result = Engine(model, options).chat(ask, tools=[find_card], tool_choice="required", options=CUT_RUNAWAY)
    assert result.finish_reason == "error" and len(result.attempts) == 3


def test_a_call_cut_off_in_a_required_argument_is_not_salvaged() -> None:
    runaway = '<tool_call>\n{"name": "find_card", "arguments": {"rank": "Queen", "suit": "' + "H" * 200
    model = ScriptedModel([runaway, call_text(("find_card", {"rank": "Queen", "suit": "Hearts"}))])
    ask = [Message(role="user", content="Find the Queen of Hearts.")]
    options = GenerationOptions(max_tokens=150)  # the valid call is shorter
    result = Engine(model, UNCONSTRAINED).chat(ask, tools=[find_card], tool_choice="required", options=options)
    assert summary(result) == [("find_card", {"rank": "Queen", "suit": "Hearts"})]
    assert result.attempts[0].error is not None and "cut off at max_tokens" in result.attempts[0].error


@pytest.mark.parametrize(("drop", "expected"), [(True, ["Oslo", "Rome"]), (False, ["Oslo", "Oslo", "Rome"])])
def test_a_call_repeated_in_one_reply_is_made_once(drop: bool, expected: list[str]) -> None:
    oslo, rome = ("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Rome"})
    model = ScriptedModel([call_text(oslo, oslo, rome)])
    ask = [Message(role="user", content="Weather in Oslo and in Rome?")]
    options = CallingOptions(constrained=False, drop_duplicates=drop)
    result = Engine(model, options).chat(ask, tools=TOOLS, tool_choice="required")
    assert [arguments["city"] for _, arguments in summary(result)] == expected


@pytest.mark.parametrize(("parallel", "expected"), [(True, 2), (False, 1)])
def test_parallel_tool_calls(parallel: bool, expected: int) -> None:
    two = call_text(("get_weather", {"city": "Beijing"}), ("get_weather", {"city": "Tokyo"}))
    model = ScriptedModel([two])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="required", parallel_tool_calls=parallel)
    assert summary(result) == [("get_weather", {"city": "Beijing"}), ("get_weather", {"city": "Tokyo"})][:expected]
    assert result.finish_reason == "tool_calls"
    ids = [c.id for c in result.message.tool_calls or []]
    assert len(set(ids)) == len(ids)


def test_named_tool_choice_allows_only_that_tool() -> None:
    model = ScriptedModel(
        [VALID, call_text(("convert_currency", {"amount": 1, "from_currency": "USD", "to_currency": "EUR"}))]
    )
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="convert_currency")
    assert "unknown function 'get_weather' (available: convert_currency)" in (result.attempts[0].error or "")
    assert summary(result) == [("convert_currency", {"amount": 1, "from_currency": "USD", "to_currency": "EUR"})]
    # every tool is still shown to the model
    assert '"name": "get_weather"' in model.prompts[0]


def test_named_tool_choice_keeps_one_call() -> None:
    two = call_text(("get_weather", {"city": "Beijing"}), ("get_weather", {"city": "Tokyo"}))
    model = ScriptedModel([two])
    choice = {"type": "function", "function": {"name": "get_weather"}}
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice=choice)
    assert summary(result) == [("get_weather", {"city": "Beijing"})]


def test_named_tool_choice_not_among_tools_is_a_schema_error() -> None:
    model = ScriptedModel([VALID])
    with pytest.raises(ToolSchemaError, match=r"'search'.*get_weather, convert_currency"):
        Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="search")
    with pytest.raises(ToolSchemaError, match=r"'get_weather'.*none"):
        Engine(model, UNCONSTRAINED).chat(ASK, tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert model.prompts == []


def test_required_without_tools_is_a_schema_error() -> None:
    model = ScriptedModel([VALID])
    with pytest.raises(ToolSchemaError, match="at least one tool"):
        Engine(model, UNCONSTRAINED).chat(ASK, tools=[], tool_choice="required")
    assert model.prompts == []


def test_bad_tool_choice_object_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"function\.name"):
        Engine(ScriptedModel([]), UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice={"type": "function"})


# -- auto ----------------------------------------------------------------------------------------------------
def test_auto_prose_is_the_answer() -> None:
    model = ScriptedModel(["Paris is usually mild in spring."])
    pieces: list[str] = []
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, on_text=pieces.append)
    assert result.message.content == "Paris is usually mild in spring."
    assert result.message.tool_calls is None
    assert result.finish_reason == "stop" and result.error is None
    assert "".join(pieces) == "Paris is usually mild in spring."
    assert "# Tools" in model.prompts[0]


def test_auto_valid_call_is_accepted_as_is() -> None:
    model = ScriptedModel([VALID])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Paris"})]
    assert len(model.prompts) == 1


def test_auto_invalid_call_is_repaired() -> None:
    invalid = call_text(("get_weather", {"town": "Paris"}))
    model = ScriptedModel([invalid, VALID])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Paris"})]
    assert len(result.attempts) == 2
    assert "missing required argument 'city'" in model.prompts[1]
    assert "unexpected argument 'town'" in model.prompts[1]
    assert_schema_valid(result)


def test_auto_invalid_call_attempt_records_its_error() -> None:
    model = ScriptedModel([call_text(("get_weather", {"town": "Paris"})), VALID])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS)
    assert "missing required argument 'city'" in (result.attempts[0].error or "")


def test_tool_choice_none_answers_without_tools() -> None:
    model = ScriptedModel(["No tools needed."])
    result = Engine(model, UNCONSTRAINED).chat(ASK, tools=TOOLS, tool_choice="none")
    assert result.message.content == "No tools needed."
    assert "# Tools" not in model.prompts[0]
    assert [a.stage for a in result.attempts] == ["answer"]


# -- the stop-repeats rule ------------------------------------------------------------------------------------
def call(name: str, arguments: dict[str, Any], call_id: str) -> ToolCall:
    return ToolCall.make(name, arguments, call_id=call_id)


def answered_conversation() -> list[Message]:
    paris = call("get_weather", {"city": "Paris", "unit": "celsius"}, "c1")
    tokyo = call("get_weather", {"city": "Tokyo"}, "c2")
    return [
        Message(role="user", content="Weather in Paris and Tokyo?"),
        Message(role="assistant", tool_calls=[paris, tokyo]),
        Message(role="tool", tool_call_id="c1", name="get_weather", content='{"temperature": 8}'),
    ]


def test_unanswered() -> None:
    conversation = answered_conversation()
    paris_again = call("get_weather", {"unit": "celsius", "city": "Paris"}, "new")
    # same name and arguments, whatever the key order and id: answered
    assert _unanswered([paris_again], conversation) == []
    # Tokyo was asked for but has no result yet
    tokyo = call("get_weather", {"city": "Tokyo"}, "c2")
    assert _unanswered([tokyo], conversation) == [tokyo]
    assert _unanswered([paris_again, tokyo], conversation) == [tokyo]
    other_arguments = call("get_weather", {"city": "Paris"}, "x")
    other_tool = call("convert_currency", {"city": "Paris", "unit": "celsius"}, "x")
    assert _unanswered([other_arguments, other_tool], conversation) == [other_arguments, other_tool]
    assert _unanswered([], conversation) == []
    assert _unanswered([paris_again], conversation[:2]) == [paris_again]  # asked, no result yet
    assert _unanswered([paris_again], []) == [paris_again]


def test_unanswered_with_unparsable_arguments_compares_the_text() -> None:
    odd = ToolCall(id="c9", function={"name": "f", "arguments": "{oops"})  # type: ignore[arg-type]
    conversation = [
        Message(role="assistant", tool_calls=[odd]),
        Message(role="tool", tool_call_id="c9", content="error"),
    ]
    assert _unanswered([ToolCall(function={"name": "f", "arguments": "{oops"})], conversation) == []  # type: ignore[arg-type]
    different = ToolCall(function={"name": "f", "arguments": "{oops!"})  # type: ignore[arg-type]
    assert _unanswered([different], conversation) == [different]


def tagged(call: tuple[str, dict[str, Any]]) -> str:
    """One call in its tag block, as the constrained grammar produces exactly one."""
    return f"<tool_call>\n{json.dumps({'name': call[0], 'arguments': call[1]})}\n</tool_call>"


def listed(*calls: tuple[str, dict[str, Any]]) -> str:
    """A call in the form the constrained grammar produces: one JSON list in one tag block."""
    body = ", ".join(json.dumps({"name": n, "arguments": a}) for n, a in calls)
    return f"<tool_call>\n[{body}]\n</tool_call>"


def test_repeated_call_is_turned_into_an_answer() -> None:
    conversation = [
        Message(role="user", content="Weather in Paris?"),
        Message(role="assistant", tool_calls=[call("get_weather", {"city": "Paris", "unit": "celsius"}, "c1")]),
        Message(role="tool", tool_call_id="c1", name="get_weather", content='{"temperature": 8}'),
    ]
    repeat = listed(("get_weather", {"city": "Paris", "unit": "celsius"}))
    model = ScriptedModel(["<tool_call>", repeat, "It is 8 degrees in Paris."])
    result = Engine(model, NO_PLAN).chat(conversation, tools=TOOLS)

    assert result.message.content == "It is 8 degrees in Paris."
    assert result.message.tool_calls is None
    assert result.finish_reason == "stop" and result.error is None
    assert [a.stage for a in result.attempts] == ["decide", "call", "answer"]
    assert model.constrained == [False, True, True]
    final = model.prompts[-1]
    assert "# Tools" not in final  # the answer is asked for without tools
    assert 'Result of get_weather: {"temperature": 8}' + HERMES.answer_request in final


def test_repeated_call_with_stop_repeats_off_is_returned() -> None:
    conversation = answered_conversation()
    repeat = listed(("get_weather", {"city": "Paris", "unit": "celsius"}))
    model = ScriptedModel(["<tool_call>", repeat])
    result = Engine(model, CallingOptions(stop_repeats=False, plan_calls=False)).chat(conversation, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Paris", "unit": "celsius"})]


def test_a_repeat_beside_a_new_call_is_dropped() -> None:
    conversation = answered_conversation()
    conversation.append(Message(role="tool", tool_call_id="c2", name="get_weather", content='{"temperature": 20}'))
    both = listed(("get_weather", {"city": "Paris", "unit": "celsius"}), ("get_weather", {"city": "Rome"}))
    model = ScriptedModel(["<tool_call>", both])
    result = Engine(model, NO_PLAN).chat(conversation, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Rome"})]
    assert result.finish_reason == "tool_calls"

    model = ScriptedModel(["<tool_call>", both])
    kept = Engine(model, CallingOptions(stop_repeats=False, plan_calls=False)).chat(conversation, tools=TOOLS)
    assert len(summary(kept)) == 2


def test_a_new_call_after_results_is_kept() -> None:
    conversation = answered_conversation()
    model = ScriptedModel(["<tool_call>", listed(("get_weather", {"city": "Tokyo"}))])
    result = Engine(model, NO_PLAN).chat(conversation, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Tokyo"})]
    assert result.finish_reason == "tool_calls"


def test_constrained_decide_probe_then_text() -> None:
    model = ScriptedModel(["Hello there! How can I help?"])
    pieces: list[str] = []
    result = Engine(model).chat([Message(role="user", content="hi")], tools=TOOLS, on_text=pieces.append)
    assert result.message.content == "Hello there! How can I help?"
    assert "".join(pieces) == result.message.content
    assert [a.stage for a in result.attempts] == ["decide", "answer"]
    assert result.attempts[0].raw_output == "H"  # the probe stops as soon as the start reads as text
    assert model.prompts[1] == model.prompts[0] + "H"  # the answer continues from the probe


def test_with_options_shares_the_model() -> None:
    model = ScriptedModel([])
    engine = Engine(model)
    changed = with_options(engine, max_repairs=5, reuse_prefix=False)
    assert changed.model is model and changed.family is engine.family is HERMES
    assert changed.options.max_repairs == 5 and not changed.options.reuse_prefix
    assert engine.options == CallingOptions()
    assert changed.name == "scripted"


@pytest.mark.parametrize("in_prompt", [False, True])
def test_the_plan_counts_the_calls_and_with_plan_in_prompt_leads_them(in_prompt: bool) -> None:
    ask = [Message(role="user", content="Weather in Paris and in Rome?")]
    plan = ' get_weather(city="Paris")\n2. get_weather(city="Rome")\n3. get_weather(city="Lyon")\n'
    calls = listed(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"}))
    model = ScriptedModel([plan, calls])
    options = CallingOptions(plan_in_prompt=in_prompt, ground_calls=False, take_planned_calls=False)
    result = Engine(model, options).chat(ask, tools=TOOLS, tool_choice="required")
    assert summary(result) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    assert [a.stage for a in result.attempts] == ["plan", "call"]
    plan_prompt, call_prompt = model.prompts
    assert plan_prompt.endswith(HERMES.plan_prefix)
    # "Lyon" is not in the request: that line does not count, so the plan says two calls, Paris and Rome
    grounded_plan = HERMES.plan_prefix + ' get_weather(city="Paris")\n2. get_weather(city="Rome")\n'
    assert call_prompt.endswith(grounded_plan) is in_prompt
    assert in_prompt or HERMES.plan_prefix not in call_prompt


def after_one_call(request: str, name: str, arguments: dict[str, Any], result: str) -> list[Message]:
    """A conversation in which the assistant made one call and its result came back."""
    return [
        Message(role="user", content=request),
        Message(role="assistant", tool_calls=[call(name, arguments, "c1")]),
        Message(role="tool", tool_call_id="c1", name=name, content=result),
    ]


def weather_then_money() -> list[Message]:
    request = "How warm is Paris? Then convert 20 EUR to USD."
    return after_one_call(request, "get_weather", {"city": "Paris"}, '{"temperature": 8}')


def test_plan_next_makes_the_call_the_request_still_needs() -> None:
    plan = ' get_weather(city="Paris")\n2. convert_currency(amount=20, from_currency="EUR", to_currency="USD")\n'
    money = {"amount": 20, "from_currency": "EUR", "to_currency": "USD"}
    model = ScriptedModel([plan, listed(("convert_currency", money))])
    result = Engine(model, CallingOptions(plan_next=True, plan_calls=False)).chat(weather_then_money(), tools=TOOLS)
    assert summary(result) == [("convert_currency", money)]
    assert [a.stage for a in result.attempts] == ["plan", "call"]
    assert model.prompts[0].endswith(HERMES.next_plan_prefix)


def test_plan_next_lets_the_model_answer_when_nothing_new_is_planned() -> None:
    model = ScriptedModel([' get_weather(city="Paris")\n', "It is 8 degrees in Paris."])
    options = CallingOptions(plan_next=True, plan_calls=False)
    result = Engine(model, options).chat(weather_then_money(), tools=TOOLS)
    assert result.message.content == "It is 8 degrees in Paris." and not result.message.tool_calls
    assert [a.stage for a in result.attempts] == ["plan", "decide", "answer"]
    off = ScriptedModel(["It is 8 degrees in Paris."])
    Engine(off, CallingOptions(plan_calls=False)).chat(weather_then_money(), tools=TOOLS)
    assert not any(HERMES.next_plan_prefix in prompt for prompt in off.prompts)  # off by default


@pytest.mark.parametrize("fallback", [True, False])
def test_plan_fallback_makes_the_planned_call_when_the_model_skipped_ahead(fallback: bool) -> None:
    ask = [Message(role="user", content="How warm is Paris today? After that, convert my savings to yen.")]
    # The second line's values are not in the request: only the weather line counts.
    plan = ' get_weather(city="Paris")\n2. convert_currency(amount=100, from_currency="EUR", to_currency="JPY")\n'
    # One counted line: the calls are generated as exactly one, a single object rather than a list.
    skipped = tagged(("convert_currency", {"amount": 100, "from_currency": "EUR", "to_currency": "JPY"}))
    then = tagged(("get_weather", {"city": "Paris"})) if fallback else "How much money do you want to convert?"
    model = ScriptedModel(["<tool_call>", plan, skipped, then])
    result = Engine(model, CallingOptions(plan_fallback=fallback)).chat(ask, tools=TOOLS)
    if fallback:
        assert summary(result) == [("get_weather", {"city": "Paris"})]
        assert [a.stage for a in result.attempts] == ["decide", "plan", "call", "fallback"]
        assert "values not found" in (result.attempts[2].error or "")
    else:
        assert not result.message.tool_calls and result.message.content == then
        assert [a.stage for a in result.attempts] == ["decide", "plan", "call", "answer"]


def test_plan_fallback_is_not_taken_when_the_dropped_call_is_the_planned_tool() -> None:
    ask = [Message(role="user", content="Convert my savings to yen.")]
    plan = ' convert_currency(amount=100, from_currency="EUR", to_currency="yen")\n'
    dropped = tagged(("convert_currency", {"amount": 100, "from_currency": "EUR", "to_currency": "JPY"}))
    model = ScriptedModel(["<tool_call>", plan, dropped, "How much, and in which currency?"])
    result = Engine(model, CallingOptions(plan_fallback=True)).chat(ask, tools=TOOLS)
    assert not result.message.tool_calls
    assert [a.stage for a in result.attempts] == ["decide", "plan", "call", "answer"]


def list_events(date: str) -> list[dict[str, str]]:
    """List the events on a day.

    Args:
        date: The day, as YYYY-MM-DD.
    """
    return [{"id": "e3", "start": "12:30"}]


def cancel_event(event_id: str) -> str:
    """Cancel an event.

    Args:
        event_id: The event's id, e.g. "e1".
    """
    return "cancelled"


def create_event(title: str) -> str:
    """Create an event.

    Args:
        title: The event's title.
    """
    return "created"


def find_free_slot(date: str) -> str:
    """Find a free hour on a day.

    Args:
        date: The day, as YYYY-MM-DD.
    """
    return "10:00"


@pytest.mark.parametrize("option", ["retry_other_tools", "lookup_first"])
@pytest.mark.parametrize("on", [True, False])
def test_a_second_chance_looks_up_what_the_skipped_ahead_call_invented(option: str, on: bool) -> None:
    ask = [Message(role="user", content="Cancel whatever I have at 12:30 on 2025-07-14.")]
    invented = call_text(("cancel_event", {"event_id": "e3"}))
    lookup = call_text(("list_events", {"date": "2025-07-14"}))
    words = "Which event do you mean?"
    model = ScriptedModel([invented, lookup if on else words])
    options = CallingOptions(constrained=False, **{option: on})
    # lookup_first turns only to tools that say they only read; retry_other_tools ignores the hint
    result = Engine(model, options).chat(ask, tools=[tool(list_events, read_only=True), cancel_event])
    if on:
        assert summary(result) == [("list_events", {"date": "2025-07-14"})]
        assert "values not found" in (result.attempts[0].error or "")
    else:
        assert not result.message.tool_calls and result.message.content == words


def test_retry_other_tools_retries_once_and_grounds_the_retry() -> None:
    ask = [Message(role="user", content="Cancel my dentist appointment.")]
    invented = call_text(("cancel_event", {"event_id": "e3"}))
    guessed_day = call_text(("list_events", {"date": "2025-01-01"}))
    model = ScriptedModel([invented, guessed_day, "Which day is the appointment?"])
    options = CallingOptions(constrained=False, retry_other_tools=True)
    result = Engine(model, options).chat(ask, tools=[list_events, cancel_event])
    assert not result.message.tool_calls and result.message.content == "Which day is the appointment?"
    assert len(model.prompts) == 3


def test_lookup_first_offers_only_the_tools_that_read_once_and_grounds_the_lookup() -> None:
    ask = [Message(role="user", content="Cancel my dentist appointment.")]
    invented = call_text(("cancel_event", {"event_id": "e3"}))
    another_action = call_text(("create_event", {"title": "dentist"}))
    guessed_day = call_text(("list_events", {"date": "2025-01-01"}))
    model = ScriptedModel([invented, another_action, guessed_day, "Which day is the appointment?"])
    options = CallingOptions(constrained=False, lookup_first=True)
    tools = [tool(list_events, read_only=True), cancel_event, create_event]
    result = Engine(model, options).chat(ask, tools=tools)
    assert not result.message.tool_calls and result.message.content == "Which day is the appointment?"
    assert len(model.prompts) == 4  # the call, the lookup, its repair (create_event only acts), the words
    assert "create_event" in (result.attempts[1].error or "")


def test_lookup_first_is_not_taken_when_no_tool_reads_or_the_dropped_call_only_read() -> None:
    ask = [Message(role="user", content="Cancel whatever I have at 12:30 on 2025-07-14.")]
    options = CallingOptions(constrained=False, lookup_first=True)
    invented = call_text(("cancel_event", {"event_id": "e3"}))
    unmarked = ScriptedModel([invented, "Which event?"])  # plain tools say nothing about reading
    result = Engine(unmarked, options).chat(ask, tools=[list_events, cancel_event])
    assert result.message.content == "Which event?" and len(unmarked.prompts) == 2
    guessed = call_text(("list_events", {"date": "2024-03-09"}))
    reading = ScriptedModel([guessed, "Which day?"])
    tools = [tool(list_events, read_only=True), tool(find_free_slot, read_only=True), cancel_event]
    result = Engine(reading, options).chat(ask, tools=tools)
    assert result.message.content == "Which day?" and len(reading.prompts) == 2


def test_plan_as_calls_holds_the_plan_to_lines_that_call_a_tool() -> None:
    ask = [Message(role="user", content="Weather in Paris and in Rome?")]
    calls = listed(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"}))
    options = CallingOptions(plan_as_calls=True, ground_calls=False)
    prose = ScriptedModel([" Get the weather for each city:\n2. Paris\n", calls])
    Engine(prose, options).chat(ask, tools=TOOLS, tool_choice="required")
    assert prose.outputs == []  # the prose plan was cut at its first letter; the calls still came
    planned = ScriptedModel([' get_weather(city="Paris")\n2. get_weather(city="Rome")\n', calls])
    result = Engine(planned, options).chat(ask, tools=TOOLS, tool_choice="required")
    assert summary(result) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    assert result.attempts[0].stage == "plan" and result.attempts[0].raw_output.count("get_weather(") == 2


def test_an_embedded_model_gets_its_measured_defaults_unless_options_are_given() -> None:
    import dataclasses

    model = ScriptedModel([])
    assert Engine(model).options == CallingOptions()  # a model the registry does not know
    model.info = dataclasses.replace(model.info, name="qwen2.5-coder-1.5b")
    assert Engine(model).options.plan_as_calls is True
    assert Engine(model).options.lookup_first is True
    assert Engine(model).options.cover_clauses is True
    model.info = dataclasses.replace(model.info, name="qwen2.5-coder-0.5b")
    assert Engine(model).options.cover_clauses is True
    assert Engine(model).options.answer_when_acted is True
    assert Engine(model).options.complete_clauses is True
    assert Engine(model, NO_PLAN).options == NO_PLAN


def read_cell(cell: str) -> float:
    """Read one cell of the sheet.

    Args:
        cell: The cell, e.g. "B2".
    """
    return 3.2


def write_cell(cell: str, value: float | str) -> str:
    """Write a value into one cell.

    Args:
        cell: The cell, e.g. "B2".
        value: The value to write.
    """
    return "written"


SHEET = [read_cell, write_cell]
FOLLOW = CallingOptions(plan_as_calls=True, plan_tools=True)


@pytest.mark.parametrize("follow", [True, False])
def test_plan_tools_makes_the_read_before_the_write_that_needs_it(follow: bool) -> None:
    ask = [Message(role="user", content="Read C3 and write double its value into E3.")]
    plan = ' read_cell(cell="C3")\n2. write_cell(cell="E3", value=2 * read_cell("C3"))\n'
    read = ("read_cell", {"cell": "C3"})
    # Following the plan, the write waits for the read's result: one call, and it must be the read. Without,
    # both lines count and the model writes a guess beside the read (as the 1.5B did, exec_sheet_011).
    then = tagged(read) if follow else listed(read, ("write_cell", {"cell": "E3", "value": 2}))
    model = ScriptedModel(["<tool_call>", plan, then])
    options = FOLLOW if follow else replace(FOLLOW, plan_tools=False)
    result = Engine(model, options).chat(ask, tools=SHEET)
    expected = [read] if follow else [read, ("write_cell", {"cell": "E3", "value": 2})]
    assert summary(result) == expected
    assert [a.stage for a in result.attempts] == ["decide", "plan", "call"]


def test_plan_tools_holds_each_call_to_its_planned_tool() -> None:
    ask = [Message(role="user", content="Read C3 and write double its value into E3.")]
    plan = ' read_cell(cell="C3")\n2. write_cell(cell="E3", value=2 * read_cell("C3"))\n'
    wrong = tagged(("write_cell", {"cell": "E3", "value": 2}))
    model = ScriptedModel(["<tool_call>", plan, wrong, tagged(("read_cell", {"cell": "C3"}))])
    result = Engine(model, FOLLOW).chat(ask, tools=SHEET)
    assert summary(result) == [("read_cell", {"cell": "C3"})]
    call_attempt = result.attempts[2]
    assert call_attempt.stage == "call" and call_attempt.raw_output.endswith('{"name": "')  # "w" was refused


def test_plan_tools_leaves_the_tools_free_when_no_planned_line_waits_for_a_result() -> None:
    ask = [Message(role="user", content="Write 5 into C3.")]
    write = ("write_cell", {"cell": "C3", "value": 5})
    # The plan names the wrong tool; with no dependent line the plan only counts, as without plan_tools
    model = ScriptedModel(["<tool_call>", ' read_cell(cell="C3")\n', tagged(write)])
    result = Engine(model, FOLLOW).chat(ask, tools=SHEET)
    assert summary(result) == [write]


def after_the_read() -> list[Message]:
    return after_one_call("Read C3 and write double its value into E3.", "read_cell", {"cell": "C3"}, "3.2")


def test_plan_tools_after_a_result_skips_the_calls_already_made() -> None:
    plan = ' read_cell(cell="C3")\n2. write_cell(cell="E3", value=6.4)\n'
    write = ("write_cell", {"cell": "E3", "value": 6.4})
    model = ScriptedModel(["<tool_call>", plan, tagged(write)])
    result = Engine(model, FOLLOW).chat(after_the_read(), tools=SHEET)
    assert summary(result) == [write]  # one call (the read is done), held to write_cell


def test_plan_tools_answers_when_every_planned_call_is_made() -> None:
    model = ScriptedModel(["<tool_call>", ' read_cell(cell="C3")\n', "C3 holds 3.2."])
    result = Engine(model, FOLLOW).chat(after_the_read(), tools=SHEET)
    assert not result.message.tool_calls and result.message.content == "C3 holds 3.2."
    assert [a.stage for a in result.attempts] == ["decide", "plan", "answer"]


def test_reject_call_values_drops_a_call_whose_value_is_another_call() -> None:
    ask = [Message(role="user", content="Write B5 minus B2 into E5.")]
    reads = [("read_cell", {"cell": "B5"}), ("read_cell", {"cell": "B2"})]
    written = ("write_cell", {"cell": "E5", "value": "read_cell(cell='B5') - read_cell('B2')"})
    options = CallingOptions(constrained=False, reject_call_values=True)
    result = Engine(ScriptedModel([call_text(*reads, written)]), options).chat(ask, tools=SHEET)
    assert summary(result) == reads  # the write waits for the reads' results
    off_options = CallingOptions(constrained=False, reject_call_values=False)
    off = Engine(ScriptedModel([call_text(*reads, written)]), off_options)
    assert summary(off.chat(ask, tools=SHEET)) == [*reads, written]
    program = ("write_cell", {"cell": "E5", "value": "print(read_cell('B5'))"})  # calls a function no tool is
    kept = Engine(ScriptedModel([call_text(*reads, program)]), options).chat(ask, tools=SHEET)
    assert summary(kept) == [*reads, program]


def test_reject_call_values_repairs_when_every_call_has_one() -> None:
    conversation = after_the_read()
    doubled = ("write_cell", {"cell": "E3", "value": "2 * read_cell('C3')"})
    fixed = ("write_cell", {"cell": "E3", "value": 6.4})
    model = ScriptedModel([call_text(doubled), call_text(fixed)])
    options = CallingOptions(constrained=False, reject_call_values=True)
    result = Engine(model, options).chat(conversation, tools=SHEET)
    assert summary(result) == [fixed]
    assert "is a call, not a value" in (result.attempts[0].error or "")
    assert "is a call, not a value" in model.prompts[1]  # the repair told the model why


def test_two_planned_calls_of_one_tool_written_in_full_are_the_calls() -> None:
    ask = [Message(role="user", content="Weather in Paris and in Rome?")]
    drifted = listed(("get_weather", {"city": "Paris, FR"}), ("get_weather", {"city": "Rome, IT"}))
    options = CallingOptions(plan_as_calls=True, ground_calls=False)
    plan = ' get_weather(city="Paris")\n2. get_weather({"city": "Rome"})\n'
    model = ScriptedModel([plan, drifted])
    result = Engine(model, options).chat(ask, tools=TOOLS, tool_choice="required")
    assert summary(result) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    assert [a.stage for a in result.attempts] == ["plan", "plan_taken"] and model.outputs == [drifted]
    # Off, the calls are generated again (and drift).
    model = ScriptedModel([plan, drifted])
    result = Engine(model, replace(options, take_planned_calls=False)).chat(ask, tools=TOOLS, tool_choice="required")
    assert summary(result) == [("get_weather", {"city": "Paris, FR"}), ("get_weather", {"city": "Rome, IT"})]


@pytest.mark.parametrize(
    "plan",
    [
        ' get_weather("Paris")\n2. get_weather("Rome")\n',  # positional: which argument is a guess
        ' get_weather(city="Paris")\n2. get_weather(city=Rome)\n',  # an unquoted word
        ' get_weather(city="Paris")\n2. get_weather(city=3)\n',  # invalid against the schema
        # two tools
        ' get_weather(city="Paris")\n2. convert_currency(amount=1, from_currency="EUR", to_currency="USD")\n',
    ],
)
def test_planned_calls_are_generated_again_unless_all_are_full_valid_calls_of_one_tool(plan: str) -> None:
    ask = [Message(role="user", content="Weather in Paris and in Rome? And 1 EUR in USD, Rome 3.")]
    calls = listed(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"}))
    model = ScriptedModel([plan, calls])
    options = CallingOptions(plan_as_calls=True, ground_calls=False)
    result = Engine(model, options).chat(ask, tools=TOOLS, tool_choice="required")
    assert "plan_taken" not in [a.stage for a in result.attempts] and model.outputs == []


def test_one_planned_call_is_generated_again() -> None:
    model = ScriptedModel([' get_weather(city="Paris")\n', VALID])
    options = CallingOptions(plan_as_calls=True, ground_calls=False)
    result = Engine(model, options).chat(ASK, tools=TOOLS, tool_choice="required")
    assert [a.stage for a in result.attempts] == ["plan", "call"] and model.outputs == []


@pytest.mark.parametrize("cover", [True, False])
def test_cover_clauses_makes_the_call_a_clause_no_call_served_before_answering(cover: bool) -> None:
    money = ("convert_currency", {"amount": 20, "from_currency": "EUR", "to_currency": "USD"})
    # the plan holds only the call made: without the option, the model answers; with it, the clause about
    # converting money (its words shared with convert_currency, a tool not called yet) gets its call
    model = ScriptedModel(["<tool_call>", ' get_weather(city="Paris")\n', listed(money) if cover else "8 degrees."])
    result = Engine(model, replace(FOLLOW, cover_clauses=cover)).chat(weather_then_money(), tools=TOOLS)
    if cover:
        assert summary(result) == [money]
        assert [a.stage for a in result.attempts] == ["decide", "plan", "fallback"]
    else:
        assert result.message.content == "8 degrees." and not result.message.tool_calls


def test_cover_clauses_answers_when_every_clause_has_had_its_call() -> None:
    money = {"amount": 20, "from_currency": "EUR", "to_currency": "USD"}
    conversation = [
        *weather_then_money(),
        Message(role="assistant", tool_calls=[call("convert_currency", money, "c2")]),
        Message(role="tool", tool_call_id="c2", name="convert_currency", content="21.6"),
    ]
    model = ScriptedModel(["<tool_call>", ' get_weather(city="Paris")\n2. convert_currency(amount=20)\n', "Done."])
    result = Engine(model, replace(FOLLOW, cover_clauses=True)).chat(conversation, tools=TOOLS)
    assert result.message.content == "Done." and not result.message.tool_calls


@pytest.mark.parametrize(
    ("request_text", "result", "answers"),
    [
        ("Write 4 into B2.", '"written"', True),  # one clause, one act done: answer
        ("Write 4 into B2.", '{"error": "the sheet is locked"}', False),  # the act failed: the model goes on
        ("Write 4 into B2. Then write 5 into B3.", '"written"', False),  # two clauses, one act so far
    ],
)
def test_answer_when_acted_answers_once_each_clause_could_have_had_its_act(
    request_text: str, result: str, answers: bool
) -> None:
    conversation = after_one_call(request_text, "write_cell", {"cell": "B2", "value": 4}, result)
    tools = [tool(read_cell, read_only=True), write_cell]
    then = "Done." if answers else "<tool_call>"
    model = ScriptedModel([then, listed(("write_cell", {"cell": "B3", "value": 5}))])
    options = CallingOptions(plan_calls=False, answer_when_acted=True)
    outcome = Engine(model, options).chat(conversation, tools=tools)
    if answers:
        assert outcome.message.content == "Done." and [a.stage for a in outcome.attempts] == ["answer"]
    else:
        assert summary(outcome) == [("write_cell", {"cell": "B3", "value": 5})]


def test_answer_when_acted_does_nothing_where_no_tool_says_it_only_reads() -> None:
    conversation = after_one_call("Write 4 into B2.", "write_cell", {"cell": "B2", "value": 4}, '"written"')
    model = ScriptedModel(["<tool_call>", listed(("write_cell", {"cell": "B3", "value": 4}))])
    options = CallingOptions(plan_calls=False, answer_when_acted=True, ground_calls=False)
    outcome = Engine(model, options).chat(conversation, tools=SHEET)
    assert summary(outcome) == [("write_cell", {"cell": "B3", "value": 4})]


def test_plan_as_calls_after_results_leaves_the_first_plan_free_form() -> None:
    ask = [Message(role="user", content="Read C3 and write double its value into E3.")]
    plan = ' read_cell(cell="C3")\n2. write_cell(cell="E3", value=2 * read_cell("C3"))\n'
    read, write = ("read_cell", {"cell": "C3"}), ("write_cell", {"cell": "E3", "value": 2})
    later = replace(FOLLOW, plan_as_calls_after_results=True)
    # Before any result the plan is not held to calls: nothing is cut at the dependent line, both lines count
    # (with FOLLOW alone the read is made first, test_plan_tools_makes_the_read_before_the_write_that_needs_it).
    first = Engine(ScriptedModel(["<tool_call>", plan, listed(read, write)]), later).chat(ask, tools=SHEET)
    assert summary(first) == [read, write]
    # After a result the plan is written as calls again, and followed: the read is done, the write remains.
    written = ("write_cell", {"cell": "E3", "value": 6.4})
    model = ScriptedModel(["<tool_call>", ' read_cell(cell="C3")\n2. write_cell(cell="E3", value=6.4)\n'])
    model.outputs.append(tagged(written))
    assert summary(Engine(model, later).chat(after_the_read(), tools=SHEET)) == [written]
