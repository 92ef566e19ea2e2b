"""Units of the function-calling engine that need no model: the auto decision, the grammars (checked on
llguidance's byte tokenizer, so they are compiled and run for real), family detection, prompt rendering, the
answer request, tool_choice normalisation and `--model` parsing.

One test renders the real Qwen2.5 chat template read from the embedded GGUF; it is marked `model`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import llguidance
import numpy as np
import pydantic
import pytest

from rixin.calling import classify_start, family_for_template
from rixin.calling.constrain import (
    GrammarConstraint,
    GrammarError,
    call_schema,
    json_grammar,
    text_grammar,
    tool_call_grammar,
)
from rixin.calling.families import GENERIC, HERMES
from rixin.calling.prompt import CHATML, render_prompt
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.errors import ModelNotFoundError
from rixin.models import EMBEDDED_MODELS, LlamaModel, load_model, parse_model_spec, split_adapter
from rixin.types import ChatResult, Message, ToolCall, Usage, as_messages, tool_choice_name

NAMES = ["get_weather", "convert_currency", "tools.search"]

# A SmolLM2-style ChatML template: knows nothing about tools.
SMOL_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


# -- classify_start -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "<tool_call>",
        '<tool_call>\n{"name": "get_weather"',
        "  \n<tool_call>",
        "{",
        '{"name": "get_weather"',
        "[",
        '[{"name"',
        "<function=get_weather>",
        '```json\n{"name": "get_weather"}',
        "```\n[",
        "```tool_call\n<tool_call>",
        "get_weather(",
        'get_weather(city="Paris")',
        "convert_currency(amount=1",
        "search(query='x')",  # the last part of a dotted tool name counts
        "tools.search(",
    ],
)
def test_classify_start_calls(text: str) -> None:
    assert classify_start(text, NAMES) == "call"


@pytest.mark.parametrize(
    "text",
    [
        "The weather",
        "Hello!",
        "I cannot check the weather.",
        "Sure, here is a haiku",
        "print(",  # a call, but not to a known tool
        "get_weather is a function",
        "weather(",  # not a tool name, not the last part of one
        "123 apples",
        "```python\nimport os",
        "<b>bold</b>",
        "Helloworld",  # a whole word that no tool name starts with
    ],
)
def test_classify_start_text(text: str) -> None:
    assert classify_start(text, NAMES) == "text"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "<",
        "<tool",
        "<tool_ca",
        "<func",
        "```",
        "```json",  # the fence's language line is not finished
        "```json\n",
        "get_",
        "get_weather",  # could still become get_weather(
        "convert",
        "  search",
    ],
)
def test_classify_start_undecided(text: str) -> None:
    assert classify_start(text, NAMES) is None


def test_classify_start_without_tools_treats_identifiers_as_text() -> None:
    assert classify_start("get_weather(", []) == "text"
    assert classify_start("Hello", []) == "text"
    assert classify_start("{", []) == "call"


# -- grammars ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def byte_tokenizer() -> Any:
    return llguidance.LLTokenizer("byte")


def matches(tokenizer: Any, lark: str, text: str) -> bool:
    """Does the grammar accept exactly `text` (consumed and in an accepting state)?"""
    matcher = llguidance.LLMatcher(tokenizer, lark, log_level=0)
    assert not matcher.is_error(), matcher.get_error()
    return bool(matcher.consume_tokens(tokenizer.tokenize_str(text))) and bool(matcher.is_accepting())


def tagged(*calls: dict[str, Any], as_list: bool) -> str:
    if as_list:
        return "<tool_call>\n[" + ", ".join(json.dumps(c) for c in calls) + "]\n</tool_call>"
    return "\n".join(f"<tool_call>\n{json.dumps(c)}\n</tool_call>" for c in calls)


PARIS = {"name": "get_weather", "arguments": {"city": "Paris"}}
TOKYO = {"name": "get_weather", "arguments": {"city": "Tokyo", "unit": "fahrenheit"}}
MONEY = {"name": "convert_currency", "arguments": {"amount": 10.5, "from_currency": "USD", "to_currency": "EUR"}}


def test_call_schema_one_tool_and_several() -> None:
    one = call_schema([get_weather])
    assert one["properties"]["name"] == {"const": "get_weather"}
    assert one["required"] == ["name", "arguments"]
    assert one["additionalProperties"] is False
    assert "x-guidance" in one
    several = call_schema([get_weather, convert_currency])
    assert [v["properties"]["name"]["const"] for v in several["anyOf"]] == ["get_weather", "convert_currency"]


def test_tool_call_grammar_text_shapes() -> None:
    listed = tool_call_grammar(
        [get_weather], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=True, max_calls=3
    )
    assert listed.startswith('start: <tool_call> "\\n[" call (", " call){0,2} "]\\n" </tool_call> "\\n"?\n')
    assert "\ncall: %json {" in listed
    quoted = tool_call_grammar(
        [get_weather], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    assert quoted.startswith('start: block "\\n"?\nblock: "<tool_call>" "\\n" %json {')
    assert quoted.rstrip().endswith('"\\n" "</tool_call>"')
    blocks = tool_call_grammar(
        [get_weather], open_tag="<a>", close_tag="</a>", tags_are_tokens=False, max_calls=4, as_list=False
    )
    assert blocks.startswith('start: block ("\\n" block){0,3} "\\n"?\n')
    with pytest.raises(ValueError, match="at least one tool"):
        tool_call_grammar([], open_tag="<a>", close_tag="</a>", tags_are_tokens=False, max_calls=1)


def test_tool_call_grammar_accepts_valid_calls_only(byte_tokenizer: Any) -> None:
    tools = [get_weather, convert_currency]
    single = tool_call_grammar(
        tools, open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    assert matches(byte_tokenizer, single, tagged(PARIS, as_list=False))
    assert matches(byte_tokenizer, single, tagged(MONEY, as_list=False) + "\n")
    assert not matches(byte_tokenizer, single, tagged(PARIS, TOKYO, as_list=False))  # only one call allowed
    assert not matches(byte_tokenizer, single, tagged({"name": "get_weather", "arguments": {"city": 5}}, as_list=False))
    assert not matches(byte_tokenizer, single, tagged({"name": "get_weather", "arguments": {}}, as_list=False))
    assert not matches(byte_tokenizer, single, tagged({"name": "nope", "arguments": {}}, as_list=False))
    assert not matches(
        byte_tokenizer, single, tagged({"name": "get_weather", "arguments": {"city": "P", "x": 1}}, as_list=False)
    )
    unit = {"name": "get_weather", "arguments": {"city": "P", "unit": "kelvin"}}
    assert not matches(byte_tokenizer, single, tagged(unit, as_list=False))


def test_a_date_parameter_admits_only_dates(byte_tokenizer: Any) -> None:
    """A `datetime.date` parameter becomes `format: date`, and the grammar holds the model to YYYY-MM-DD (the
    0.5B writes "2025-07-17T14:00:00Z" where a tool documents YYYY-MM-DD only in words)."""
    import datetime

    from rixin.tools import tool

    @tool
    def list_events(day: datetime.date) -> list[str]:
        """List the events of a day.

        Args:
            day: the day
        """
        return []

    grammar = tool_call_grammar(
        [list_events], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )

    def call(day: str) -> dict[str, Any]:
        return {"name": "list_events", "arguments": {"day": day}}

    assert matches(byte_tokenizer, grammar, tagged(call("2025-07-17"), as_list=False))
    for wrong in ("2025-07-17T14:00:00Z", "17/07/2025", "2025-13-01"):
        assert not matches(byte_tokenizer, grammar, tagged(call(wrong), as_list=False)), wrong


def test_parallel_grammars_bound_the_number_of_calls(byte_tokenizer: Any) -> None:
    tools = [get_weather, convert_currency]
    listed = tool_call_grammar(
        tools, open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=2
    )
    assert matches(byte_tokenizer, listed, tagged(PARIS, as_list=True))
    assert matches(byte_tokenizer, listed, tagged(PARIS, MONEY, as_list=True))
    assert not matches(byte_tokenizer, listed, tagged(PARIS, MONEY, TOKYO, as_list=True))
    assert not matches(byte_tokenizer, listed, tagged(PARIS, as_list=False))  # the list form is required
    blocks = tool_call_grammar(
        tools, open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=3, as_list=False
    )
    assert matches(byte_tokenizer, blocks, tagged(PARIS, TOKYO, MONEY, as_list=False))
    assert not matches(byte_tokenizer, blocks, tagged(PARIS, TOKYO, MONEY, PARIS, as_list=False))


def test_json_grammar(byte_tokenizer: Any) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    lark = json_grammar(schema)
    assert lark.startswith("start: %json {") and lark.endswith("\n")
    assert json.loads(lark.split("%json ", 1)[1])["x-guidance"]["whitespace_flexible"] is True
    assert "x-guidance" not in schema  # the caller's schema is not modified
    assert matches(byte_tokenizer, lark, '{"n": 3}')
    assert matches(byte_tokenizer, lark, '{\n  "n": 3\n}')
    assert not matches(byte_tokenizer, lark, '{"n": "3"}')
    assert not matches(byte_tokenizer, lark, "{}")
    anything = json_grammar(None)
    assert matches(byte_tokenizer, anything, '{"a": [1, 2]}')
    assert not matches(byte_tokenizer, anything, "[1, 2]")  # "any JSON object"


def test_text_grammar_cannot_open_a_call(byte_tokenizer: Any) -> None:
    lark = text_grammar()
    assert matches(byte_tokenizer, lark, "The weather in Paris is mild.\nEnjoy!")
    assert matches(byte_tokenizer, lark, "8 degrees")
    assert matches(byte_tokenizer, lark, "Été")
    for opener in ("<tool_call>", '{"name": "x"}', "[1]", "```json", " leading space"):
        assert not matches(byte_tokenizer, lark, opener), opener


def test_grammar_constraint_forces_masks_and_finishes(byte_tokenizer: Any) -> None:
    lark = tool_call_grammar(
        [get_weather], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    constraint = GrammarConstraint(byte_tokenizer, lark, byte_tokenizer.vocab_size)
    forced = constraint.forced_tokens()
    # With one tool whose first property is required, everything up to the city's value is forced.
    assert bytes(forced).decode() == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "'
    for token in forced:
        assert constraint.accept(token)
    logits = np.zeros(byte_tokenizer.vocab_size, dtype=np.float32)
    constraint.mask(logits)
    allowed = {int(i) for i in np.flatnonzero(np.isfinite(logits))}
    assert ord("P") in allowed and ord("\n") not in allowed and byte_tokenizer.eos_token not in allowed
    assert constraint.mask_calls == 1
    assert not constraint.accept(ord("\n"))  # a raw newline is not valid inside a JSON string
    assert constraint.error


def test_grammar_constraint_runs_to_the_end(byte_tokenizer: Any) -> None:
    lark = tool_call_grammar(
        [get_weather], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    constraint = GrammarConstraint(byte_tokenizer, lark, byte_tokenizer.vocab_size, greedy=True)
    for token in byte_tokenizer.tokenize_str(tagged(PARIS, as_list=False)):
        assert constraint.accept(token)
    assert constraint.is_accepting()
    assert not constraint.is_finished()  # an optional trailing newline may still come
    assert constraint.accept(byte_tokenizer.eos_token)
    assert constraint.is_finished()
    # greedy mode: an allowed argmax leaves the logits untouched
    greedy = GrammarConstraint(byte_tokenizer, text_grammar(), byte_tokenizer.vocab_size, greedy=True)
    logits = np.zeros(byte_tokenizer.vocab_size, dtype=np.float32)
    logits[ord("A")] = 5.0
    greedy.mask(logits)
    assert np.isfinite(logits).all()
    logits[ord("{")] = 9.0  # a forbidden argmax: now the mask is applied
    greedy.mask(logits)
    assert logits[ord("{")] == -np.inf and logits[ord("A")] == 5.0


@pytest.mark.parametrize("lark", ['start: %json {"type": "nonsense"}', "start: undefined_rule"])
def test_grammar_constraint_reports_bad_grammars(byte_tokenizer: Any, lark: str) -> None:
    with pytest.raises(GrammarError):
        GrammarConstraint(byte_tokenizer, lark, byte_tokenizer.vocab_size)


# -- families ------------------------------------------------------------------------------------------------
def test_family_for_template() -> None:
    qwen_like = "{% if tools %}...{{ tools }}...<tool_call>{% endif %}{{ messages }}"
    assert family_for_template(qwen_like) is HERMES
    assert family_for_template(SMOL_TEMPLATE) is GENERIC
    assert family_for_template(CHATML) is GENERIC
    assert family_for_template(None) is GENERIC
    assert family_for_template("") is GENERIC
    assert family_for_template("{% if tools %}{{ tools }}{% endif %}") is GENERIC  # no <tool_call> tags
    assert family_for_template("<tool_call>{{ messages }}") is GENERIC  # no tools variable
    assert HERMES.native_tools and not GENERIC.native_tools


def test_ask_for_answer_labels_latest_results_and_asks_for_words() -> None:
    call = ToolCall.make("get_weather", {"city": "Paris"}, call_id="call_1")
    other = ToolCall.make("convert_currency", {"amount": 1, "from_currency": "USD", "to_currency": "EUR"})
    conversation = [
        Message(role="user", content="Weather in Paris, and 1 USD in EUR?"),
        Message(role="assistant", tool_calls=[call, other]),
        Message(role="tool", tool_call_id="call_1", name="get_weather", content='{"temperature": 8}'),
        Message(role="tool", tool_call_id=other.id, content='{"amount": 0.93}'),
    ]
    before = [m.model_copy(deep=True) for m in conversation]
    out = HERMES.ask_for_answer(conversation)
    assert conversation == before  # the input is not modified
    assert out[:2] == conversation[:2]
    assert out[2].content == 'Result of get_weather: {"temperature": 8}'
    assert out[3].content == 'Result: {"amount": 0.93}' + HERMES.answer_request
    assert out[3].tool_call_id == other.id and out[3].role == "tool"
    assert "plain words" in HERMES.answer_request


def test_ask_for_answer_leaves_conversations_without_trailing_results_alone() -> None:
    conversation = [
        Message(role="user", content="hi"),
        Message(role="assistant", tool_calls=[ToolCall.make("get_weather", {"city": "Paris"}, call_id="c")]),
        Message(role="tool", tool_call_id="c", name="get_weather", content="8"),
        Message(role="assistant", content="It is 8 degrees."),
        Message(role="user", content="thanks"),
    ]
    assert GENERIC.ask_for_answer(conversation) == conversation
    assert GENERIC.ask_for_answer([]) == []


def test_tools_system_prompt_and_call_history() -> None:
    prompt = GENERIC.tools_system_prompt([get_weather, convert_currency])
    listing = prompt.split("<tools>\n", 1)[1].split("\n</tools>", 1)[0].splitlines()
    assert [json.loads(line) for line in listing] == [get_weather.to_openai(), convert_currency.to_openai()]
    assert "<tool_call></tool_call>" in prompt
    history = GENERIC.render_call_history(
        [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]
    )
    assert history == (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>'
    )
    assert GENERIC.render_tool_result("42") == "<tool_response>\n42\n</tool_response>"


# -- prompts ------------------------------------------------------------------------------------------------
def tool_conversation() -> list[Message]:
    call = ToolCall.make("get_weather", {"city": "Paris"}, call_id="call_1")
    return [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather in Paris?"),
        Message(role="assistant", content="Let me check.", tool_calls=[call]),
        Message(role="tool", tool_call_id="call_1", name="get_weather", content='{"temperature": 8}'),
    ]


def test_render_generic_describes_tools_in_the_system_prompt() -> None:
    text = render_prompt(SMOL_TEMPLATE, GENERIC, tool_conversation(), [get_weather, convert_currency])
    system = text.split("<|im_end|>", 1)[0]
    assert system.startswith("<|im_start|>system\nBe brief.\n\n# Tools")  # appended to the user's system text
    assert json.dumps(get_weather.to_openai(), ensure_ascii=False) in system
    assert json.dumps(convert_currency.to_openai(), ensure_ascii=False) in system
    # the earlier call is written into the assistant turn, in tags, after its text
    assert (
        "<|im_start|>assistant\nLet me check.\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>'
    ) in text
    # the tool result is a user turn
    assert '<|im_start|>user\n<tool_response>\n{"temperature": 8}\n</tool_response><|im_end|>' in text
    assert "<|im_start|>tool" not in text
    assert text.endswith("<|im_start|>assistant\n")
    assert text.count("<|im_start|>") == 5


def test_render_generic_without_a_system_message_or_tools() -> None:
    messages = [Message(role="user", content="Hi")]
    with_tools = render_prompt(SMOL_TEMPLATE, GENERIC, messages, [get_weather])
    assert with_tools.startswith("<|im_start|>system\n# Tools")
    assert "You are a helpful AI assistant" not in with_tools  # our system message replaced the default
    plain = render_prompt(SMOL_TEMPLATE, GENERIC, messages, None)
    assert plain == (
        "<|im_start|>system\nYou are a helpful AI assistant<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    # no template at all: plain ChatML
    assert render_prompt(None, GENERIC, messages, None) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_render_keeps_unparsable_arguments_as_text() -> None:
    call = ToolCall(id="c", function={"name": "get_weather", "arguments": "{not json"})  # type: ignore[arg-type]
    messages = [Message(role="user", content="x"), Message(role="assistant", tool_calls=[call])]
    text = render_prompt(None, GENERIC, messages, None)
    assert '{"name": "get_weather", "arguments": "{not json"}' in text


@pytest.mark.model
def test_render_hermes_with_the_real_qwen_template(qwen_model: LlamaModel) -> None:
    template = qwen_model.info.chat_template
    assert template is not None
    assert family_for_template(template) is HERMES
    text = render_prompt(
        template,
        HERMES,
        tool_conversation(),
        [get_weather, convert_currency],
        bos_token=qwen_model.info.bos_token,
        eos_token=qwen_model.info.eos_token,
    )
    assert text.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n")
    tools_block = text.split("<tools>\n", 1)[1].split("\n</tools>", 1)[0]
    assert [json.loads(line) for line in tools_block.splitlines()] == [
        get_weather.to_openai(),
        convert_currency.to_openai(),
    ]
    # the template writes the earlier call itself, with the arguments as an object
    assert (
        '<|im_start|>assistant\nLet me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}'
        "\n</tool_call><|im_end|>"
    ) in text
    assert '<|im_start|>user\n<tool_response>\n{"temperature": 8}\n</tool_response><|im_end|>' in text
    assert text.endswith("<|im_start|>assistant\n")
    # without tools: Qwen's own system prompt handling, no tool section
    plain = render_prompt(template, HERMES, [Message(role="user", content="Hi")], None)
    assert plain == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


# -- types ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, "auto"),
        ("auto", "auto"),
        ("required", "required"),
        ("none", "none"),
        ("get_weather", "function:get_weather"),
        ({"type": "function", "function": {"name": "get_weather"}}, "function:get_weather"),
        ({"function": {"name": "x"}}, "function:x"),
    ],
)
def test_tool_choice_name(choice: Any, expected: str) -> None:
    assert tool_choice_name(choice) == expected


@pytest.mark.parametrize(
    "choice",
    [
        "",
        {"type": "function"},
        {"type": "function", "function": {}},
        {"type": "function", "function": {"name": ""}},
        {"type": "function", "function": "get_weather"},
        {"type": "function", "function": {"name": 3}},
    ],
)
def test_tool_choice_name_errors(choice: Any) -> None:
    with pytest.raises(ValueError):
        tool_choice_name(choice)


def test_chat_types() -> None:
    call = ToolCall.make("get_weather", {"city": "Zürich"})
    assert call.id.startswith("call_") and call.name == "get_weather"
    assert call.function.arguments == '{"city": "Zürich"}'
    assert call.parsed_arguments() == {"city": "Zürich"}
    with pytest.raises(ValueError, match="not a JSON object"):
        ToolCall(function={"name": "f", "arguments": "[1]"}).parsed_arguments()  # type: ignore[arg-type]
    result = ChatResult(message=Message(role="assistant", tool_calls=[call]), finish_reason="tool_calls")
    wire = result.to_openai_message()
    assert wire["content"] is None and "content" in wire
    assert wire["tool_calls"] == [
        {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'}}
    ]
    assert ChatResult(message=Message(role="assistant", content="hi")).to_openai_message() == {
        "role": "assistant",
        "content": "hi",
    }
    total = Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3) + Usage(prompt_tokens=10, total_tokens=10)
    assert total == Usage(prompt_tokens=11, completion_tokens=2, total_tokens=13)
    messages = as_messages([{"role": "user", "content": "x", "unknown": 1}, Message(role="tool", content="y")])
    assert [m.role for m in messages] == ["user", "tool"]
    with pytest.raises(pydantic.ValidationError):
        as_messages([{"role": "wizard", "content": "x"}])


# -- parse_model_spec ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("qwen2.5-coder-0.5b", ("embedded", "qwen2.5-coder-0.5b", None)),
        ("qwen2.5-coder-1.5b", ("embedded", "qwen2.5-coder-1.5b", None)),
        ("smollm2-135m", ("embedded", "smollm2-135m", None)),
        ("  SmolLM2-135M ", ("embedded", "smollm2-135m", None)),
        ("default", ("embedded", "qwen2.5-coder-0.5b", None)),
        ("qwen2.5-coder-0.5b-instruct", ("embedded", "qwen2.5-coder-0.5b", None)),
        ("qwen2.5-coder-1.5b-instruct", ("embedded", "qwen2.5-coder-1.5b", None)),
        ("smollm2-135m-instruct", ("embedded", "smollm2-135m", None)),
        ("./models/my-model.gguf", ("gguf", "./models/my-model.gguf", None)),
        ("/no/such/dir/x.gguf", ("gguf", "/no/such/dir/x.gguf", None)),
        ("http://127.0.0.1:8000/v1#qwen2.5-7b", ("endpoint", "http://127.0.0.1:8000/v1", "qwen2.5-7b")),
        ("https://api.example.com/v1#org/model:tag", ("endpoint", "https://api.example.com/v1", "org/model:tag")),
        ("qwen2.5-7b@http://127.0.0.1:8000/v1", ("endpoint", "http://127.0.0.1:8000/v1", "qwen2.5-7b")),
        ("m@https://host/v1", ("endpoint", "https://host/v1", "m")),
        ("http://127.0.0.1:8000/v1", ("endpoint", "http://127.0.0.1:8000/v1", None)),
        ("http://127.0.0.1:8000/v1#", ("endpoint", "http://127.0.0.1:8000/v1", None)),
        ("qwen2.5-coder-0.5b+runs/a/adapter.gguf", ("embedded", "qwen2.5-coder-0.5b", None)),
        ("./m.gguf+./lora.gguf", ("gguf", "./m.gguf", None)),
    ],
)
def test_parse_model_spec(spec: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_model_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("qwen2.5-coder-0.5b+runs/a/adapter.gguf", ("qwen2.5-coder-0.5b", Path("runs/a/adapter.gguf"))),
        (" m.gguf + ~/lora.gguf ", ("m.gguf", Path("~/lora.gguf").expanduser())),
        ("qwen2.5-coder-0.5b", ("qwen2.5-coder-0.5b", None)),
        ("c++model.gguf", ("c++model.gguf", None)),  # "c+" is no model
        ("my-model+v2.gguf", ("my-model+v2.gguf", None)),
        ("http://host/v1#a+b.gguf", ("http://host/v1#a+b.gguf", None)),  # endpoints take no adapter
        ("+adapter.gguf", ("+adapter.gguf", None)),
    ],
)
def test_split_adapter(spec: str, expected: tuple[str, Path | None]) -> None:
    assert split_adapter(spec) == expected


def test_load_model_names_a_missing_adapter(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="adapter not found"):
        load_model(f"qwen2.5-coder-0.5b+{tmp_path / 'none.gguf'}")


def test_parse_model_spec_existing_file_without_gguf_suffix(tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"GGUF")
    assert parse_model_spec(str(weights)) == ("gguf", str(weights), None)


@pytest.mark.parametrize("spec", ["no-such-model", "qwen3", "", "   ", "weights.bin"])
def test_parse_model_spec_unknown_lists_the_embedded_models(spec: str) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        parse_model_spec(spec)
    message = str(caught.value)
    for name in EMBEDDED_MODELS:
        assert name in message
    assert "URL#MODEL" in message


@pytest.mark.parametrize("spec", ["ftp://host/models", "m@ftp://host/v1", "file:///tmp/x.gguf"])
def test_parse_model_spec_rejects_other_schemes(spec: str) -> None:
    with pytest.raises(ModelNotFoundError, match="URL#MODEL or MODEL@URL"):
        parse_model_spec(spec)


def test_plan_constraint_makes_ending_the_plan_less_likely(byte_tokenizer: Any) -> None:
    from rixin.calling.constrain import PlanConstraint, plan_grammar

    n_vocab = byte_tokenizer.vocab_size
    eos = byte_tokenizer.eos_token
    constraint = PlanConstraint(byte_tokenizer, plan_grammar(3), n_vocab, end_penalty=3.0)
    for token in byte_tokenizer.tokenize_str(' f("Paris")'):
        assert constraint.accept(token)
    logits = np.zeros(n_vocab, dtype=np.float32)
    constraint.mask(logits)
    assert logits[eos] == -3.0  # the plan may end here, less likely
    assert logits[ord("\n")] == 0.0 and logits[ord("x")] == 0.0  # the line may go on, or a new line begin
    for token in byte_tokenizer.tokenize_str("\n"):
        assert constraint.accept(token)
    logits = np.zeros(n_vocab, dtype=np.float32)
    constraint.mask(logits)
    assert logits[ord("2")] == 0.0 and logits[eos] == -3.0 and logits[ord("x")] == -np.inf


def test_plan_grammar_as_calls_takes_only_lines_that_call_a_tool(byte_tokenizer: Any) -> None:
    from rixin.calling.constrain import plan_grammar

    free, as_calls = plan_grammar(3), plan_grammar(3, ["get_weather", "geo.distance"])
    prose = " Calculate the velocity for the first day:\n2. Then the second day."
    calls = ' get_weather(city="Paris")\n2. geo.distance("Rome", "Oslo")\n'
    assert matches(byte_tokenizer, free, prose) and matches(byte_tokenizer, free, calls)
    assert matches(byte_tokenizer, as_calls, calls)
    assert not matches(byte_tokenizer, as_calls, prose)
    assert not matches(byte_tokenizer, as_calls, " get_time(zone=1)")  # not a tool
    assert not matches(byte_tokenizer, as_calls, ' get_weather("a")\n2. get_weather("b")\n3. x()\n4. ')  # 3 lines


def test_tuned_options_apply_a_models_measured_defaults_then_the_changes() -> None:
    from rixin.calling import CallingOptions, tuned_options

    assert tuned_options("qwen2.5-coder-1.5b").plan_as_calls is True
    assert tuned_options("qwen2.5-coder-1.5b").plan_tools is True
    assert tuned_options("qwen2.5-coder-0.5b").answer_when_acted is True
    assert tuned_options("qwen2.5-coder-1.5b").answer_when_acted is False
    assert tuned_options("qwen2.5-coder-0.5b") == CallingOptions(
        shortlist_size=3,
        shortlist_per_clause=1,
        cover_clauses=True,
        complete_clauses=True,
        plan_as_calls=True,
        plan_tools=True,
        plan_as_calls_after_results=True,
        answer_when_acted=True,
        ground_option_lists=True,
        one_tool_per_clause=True,
    )
    assert tuned_options("qwen2.5-coder-1.5b").shortlist_size == 3
    assert tuned_options("qwen2.5-coder-1.5b").one_tool_per_clause is True
    assert tuned_options("qwen2.5-coder-1.5b").complete_clauses is True
    assert tuned_options("some-endpoint-model") == CallingOptions()
    assert tuned_options("some-endpoint-model").shortlist_size is None
    assert tuned_options("qwen2.5-coder-1.5b", plan_as_calls=False).plan_as_calls is False
    assert tuned_options("qwen2.5-coder-0.5b", plan_calls=False).plan_calls is False
    with pytest.raises(TypeError):
        tuned_options("qwen2.5-coder-1.5b", nonsense=1)
    fields = set(CallingOptions.__dataclass_fields__)
    for entry in EMBEDDED_MODELS.values():
        assert set(entry.calling_defaults) <= fields, entry.name


def test_a_sequence_grammar_takes_one_call_of_each_tool_in_order(byte_tokenizer: Any) -> None:
    tools = [get_weather, convert_currency]
    kwargs: dict[str, Any] = {"open_tag": "<tool_call>", "close_tag": "</tool_call>", "tags_are_tokens": False}
    listed = tool_call_grammar(tools, max_calls=2, sequence=[get_weather, convert_currency], **kwargs)
    assert matches(byte_tokenizer, listed, tagged(PARIS, MONEY, as_list=True))
    assert not matches(byte_tokenizer, listed, tagged(MONEY, PARIS, as_list=True))  # the order is the plan's
    assert not matches(byte_tokenizer, listed, tagged(PARIS, TOKYO, as_list=True))
    assert not matches(byte_tokenizer, listed, tagged(PARIS, as_list=True))
    one = tool_call_grammar(tools, max_calls=1, sequence=[convert_currency], **kwargs)
    assert matches(byte_tokenizer, one, tagged(MONEY, as_list=False))
    assert not matches(byte_tokenizer, one, tagged(PARIS, as_list=False))
    blocks = tool_call_grammar(tools, max_calls=2, as_list=False, sequence=[get_weather, get_weather], **kwargs)
    assert matches(byte_tokenizer, blocks, tagged(PARIS, TOKYO, as_list=False))
