"""The tool-call parser against what small open models actually print."""

from __future__ import annotations

from typing import Any

import pytest

from rixin.calling.parse import ParsedCall, ParseResult, parse_tool_calls, salvage_truncated

TOOLS = {
    "get_weather": ["city", "unit"],
    "factorial": ["n"],
    "search": ["query", "limit"],
    "get_time": [],
}


def calls(result: ParseResult) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.arguments) for c in result.calls]


def only(result: ParseResult) -> ParsedCall:
    assert len(result.calls) == 1, result
    assert result.errors == [], result
    return result.calls[0]


# --- 1. native <tool_call> tags -------------------------------------------------------------------


def test_single_tag_qwen_layout() -> None:
    r = parse_tool_calls('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>')
    assert only(r) == ParsedCall("get_weather", {"city": "Paris"}, "tag")
    assert r.content is None


def test_several_tags_with_whitespace() -> None:
    text = (
        '  <tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n\n'
        '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>\n'
    )
    r = parse_tool_calls(text)
    assert calls(r) == [("get_weather", {"city": "Paris"}), ("get_time", {})]
    assert r.content is None and r.errors == []


def test_missing_final_close_tag() -> None:
    r = parse_tool_calls('<tool_call>\n{"name": "factorial", "arguments": {"n": 5}}\n')
    assert only(r) == ParsedCall("factorial", {"n": 5}, "tag")


def test_open_tag_without_close_before_next_open() -> None:
    text = '<tool_call>{"name": "a", "arguments": {}}\n<tool_call>{"name": "b", "arguments": {}}</tool_call>'
    assert [c.name for c in parse_tool_calls(text).calls] == ["a", "b"]


def test_text_around_tags_becomes_content() -> None:
    text = (
        "Let me check the weather.\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        "I will report back."
    )
    r = parse_tool_calls(text)
    assert calls(r) == [("get_weather", {"city": "Paris"})]
    assert r.content == "Let me check the weather.\n\nI will report back."


def test_arguments_as_json_string_are_decoded() -> None:
    text = '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}</tool_call>'
    assert only(parse_tool_calls(text)).arguments == {"city": "Paris"}


def test_tag_holding_a_list_of_calls() -> None:
    text = (
        '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}},'
        ' {"name": "get_weather", "arguments": {"city": "Rome"}}]</tool_call>'
    )
    r = parse_tool_calls(text)
    assert calls(r) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    assert all(c.form == "tag" for c in r.calls)


def test_tag_with_json_lines_inside() -> None:
    text = '<tool_call>\n{"name": "a", "arguments": {}}\n{"name": "b", "arguments": {"x": 1}}\n</tool_call>'
    assert calls(parse_tool_calls(text)) == [("a", {}), ("b", {"x": 1})]


def test_stray_close_tag_is_dropped() -> None:
    r = parse_tool_calls('{"name": "get_time", "arguments": {}}\n</tool_call>')
    assert calls(r) == [("get_time", {})]
    assert r.content is None


def test_custom_tags() -> None:
    r = parse_tool_calls("[TOOL]{'name': 'f', 'arguments': {}}[/TOOL] ok", open_tag="[TOOL]", close_tag="[/TOOL]")
    assert calls(r) == [("f", {})]
    assert r.content == "ok"


def test_unreadable_tag_body_is_an_error() -> None:
    r = parse_tool_calls("<tool_call>\nI want the weather please\n</tool_call>")
    assert r.calls == [] and len(r.errors) == 1
    assert "unreadable" in r.errors[0]


def test_truncated_call_inside_unclosed_tag() -> None:
    r = parse_tool_calls('<tool_call>\n{"name": "search", "arguments": {"query": "cheap fl')
    assert r.calls == [] and len(r.errors) == 1
    assert "truncated" in r.errors[0]


def test_python_call_inside_tag_with_unknown_name_is_returned() -> None:
    r = parse_tool_calls('<tool_call>\nbook_flight(to="Oslo")\n</tool_call>', TOOLS)
    assert only(r) == ParsedCall("book_flight", {"to": "Oslo"}, "tag")


# --- 2. bare JSON ---------------------------------------------------------------------------------


def test_bare_json_object() -> None:
    r = parse_tool_calls('{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}')
    assert only(r) == ParsedCall("get_weather", {"city": "Paris", "unit": "celsius"}, "json")
    assert r.content is None


def test_json_list_of_calls() -> None:
    r = parse_tool_calls('[{"name": "a", "arguments": {"x": 1}}, {"name": "b", "parameters": {"y": 2}}]')
    assert calls(r) == [("a", {"x": 1}), ("b", {"y": 2})]


def test_json_lines() -> None:
    text = '{"name": "a", "arguments": {"x": 1}}\n{"name": "b", "arguments": {"y": 2}}\n'
    r = parse_tool_calls(text)
    assert calls(r) == [("a", {"x": 1}), ("b", {"y": 2})]
    assert r.content is None and r.errors == []


@pytest.mark.parametrize(
    ("name_key", "arg_key"),
    [
        ("name", "arguments"),
        ("function", "parameters"),
        ("tool", "args"),
        ("tool_name", "params"),
        ("api", "input"),
        ("action", "action_input"),
    ],
)
def test_name_and_argument_key_spellings(name_key: str, arg_key: str) -> None:
    text = f'{{"{name_key}": "search", "{arg_key}": {{"query": "rust"}}}}'
    assert calls(parse_tool_calls(text)) == [("search", {"query": "rust"})]


def test_openai_style_call_with_string_arguments() -> None:
    text = '{"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{\\"query\\": \\"x\\"}"}}'
    assert calls(parse_tool_calls(text)) == [("search", {"query": "x"})]


def test_tool_calls_wrapper() -> None:
    text = (
        '{"tool_calls": [{"type": "function", "function": {"name": "a", "arguments": {}}},'
        ' {"name": "b", "arguments": {"k": "v"}}]}'
    )
    assert calls(parse_tool_calls(text)) == [("a", {}), ("b", {"k": "v"})]


def test_json_call_with_prose_around() -> None:
    r = parse_tool_calls('Sure! I will call:\n{"name": "get_time"}\nThen I answer.')
    assert calls(r) == [("get_time", {})]
    assert r.content == "Sure! I will call:\n\nThen I answer."


def test_unknown_json_name_is_returned() -> None:
    r = parse_tool_calls('{"name": "launch_rocket", "arguments": {}}', TOOLS)
    assert calls(r) == [("launch_rocket", {})]


def test_unicode_and_nested_arguments() -> None:
    text = (
        '<tool_call>{"name": "search", "arguments": {"query": "北京天气", '
        '"filters": {"lang": "zh", "tags": ["新闻", {"deep": [1, 2.5, null, true]}]}}}</tool_call>'
    )
    args = only(parse_tool_calls(text)).arguments
    assert args == {"query": "北京天气", "filters": {"lang": "zh", "tags": ["新闻", {"deep": [1, 2.5, None, True]}]}}


def test_non_object_arguments_are_an_error() -> None:
    r = parse_tool_calls('{"name": "search", "arguments": ["rust", 3]}')
    assert r.calls == [] and len(r.errors) == 1 and "object" in r.errors[0]


def test_undecodable_argument_string_is_an_error() -> None:
    r = parse_tool_calls('{"name": "search", "arguments": "query=rust"}')
    assert r.calls == [] and r.errors == ["search: arguments are not valid JSON"]


def test_echoed_tool_schema_is_not_a_call() -> None:
    text = '{"name": "search", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}'
    r = parse_tool_calls(text)
    assert r.calls == [] and r.errors == [] and r.content == text


# --- 3. fences ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["json", "tool_call", ""])
def test_fenced_json(lang: str) -> None:
    text = f'Here you go:\n```{lang}\n{{"name": "factorial", "arguments": {{"n": 5}}}}\n```\n'
    r = parse_tool_calls(text)
    assert only(r) == ParsedCall("factorial", {"n": 5}, "fence")
    assert r.content == "Here you go:"


def test_fenced_python_calls() -> None:
    text = '```python\nget_weather(city="Paris")\nget_weather("Rome", unit="f")\n```'
    r = parse_tool_calls(text, TOOLS)
    assert calls(r) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome", "unit": "f"})]
    assert {c.form for c in r.calls} == {"fence"}


def test_fenced_python_without_tools_any_name() -> None:
    r = parse_tool_calls("```python\nlookup(word='hi')\n```")
    assert calls(r) == [("lookup", {"word": "hi"})]


def test_unclosed_fence_with_truncated_call() -> None:
    r = parse_tool_calls('```json\n{"name": "search", "arguments": {"query": "a')
    assert r.calls == [] and len(r.errors) == 1


def test_fence_with_ordinary_code_is_content() -> None:
    text = "Example:\n```python\nimport math\nprint(math.sqrt(2))\n```"
    r = parse_tool_calls(text)
    assert r == ParseResult([], text, [])


def test_fence_inside_tag() -> None:
    text = '<tool_call>\n```json\n{"name": "get_time", "arguments": {}}\n```\n</tool_call>'
    assert only(parse_tool_calls(text)) == ParsedCall("get_time", {}, "tag")


# --- 4. Python-style calls ------------------------------------------------------------------------


def test_python_keyword_call() -> None:
    r = parse_tool_calls('get_weather(city="Paris", unit="celsius")', TOOLS)
    assert only(r) == ParsedCall("get_weather", {"city": "Paris", "unit": "celsius"}, "python")


def test_python_calls_on_lines_and_in_list() -> None:
    assert calls(parse_tool_calls('factorial(n=5)\nsearch(query="x")', TOOLS)) == [
        ("factorial", {"n": 5}),
        ("search", {"query": "x"}),
    ]
    r = parse_tool_calls('[factorial(n=5), search(query="x", limit=3)]', TOOLS)
    assert calls(r) == [("factorial", {"n": 5}), ("search", {"query": "x", "limit": 3})]
    assert r.content is None


def test_python_list_without_tools() -> None:
    assert calls(parse_tool_calls("[f(a=1), g(b=2)]")) == [("f", {"a": 1}), ("g", {"b": 2})]


def test_python_call_in_prose_with_known_tool() -> None:
    r = parse_tool_calls('I will call get_weather(city="北京") now.', TOOLS)
    assert calls(r) == [("get_weather", {"city": "北京"})]
    assert r.content == "I will call  now."


def test_python_call_in_prose_without_tools_is_content() -> None:
    text = 'You could call get_weather(city="Paris") yourself.'
    assert parse_tool_calls(text) == ParseResult([], text, [])


def test_unknown_python_name_with_tools_is_content() -> None:
    text = 'print("hello")'
    assert parse_tool_calls(text, TOOLS) == ParseResult([], text, [])


def test_module_qualified_names() -> None:
    assert calls(parse_tool_calls("math.factorial(n=5)", TOOLS)) == [("factorial", {"n": 5})]
    assert calls(parse_tool_calls("math.sqrt(x=2)")) == [("math.sqrt", {"x": 2})]
    assert calls(parse_tool_calls("math.factorial(n=5)", {"math.factorial": ["n"]})) == [("math.factorial", {"n": 5})]


def test_positional_arguments_mapped_through_tools() -> None:
    assert only(parse_tool_calls('search("rust", 10)', TOOLS)).arguments == {"query": "rust", "limit": 10}


def test_too_many_positional_arguments_is_an_error() -> None:
    r = parse_tool_calls("factorial(5, 6)", TOOLS)
    assert r.calls == [] and len(r.errors) == 1 and "positional" in r.errors[0]


def test_python_literal_values() -> None:
    text = "search(query={'a': [1, -2.5, None]}, limit=-3, flag=True, off=false, tup=(1, 2))"
    args = only(parse_tool_calls(text, TOOLS)).arguments
    assert args == {"query": {"a": [1, -2.5, None]}, "limit": -3, "flag": True, "off": False, "tup": [1, 2]}


def test_non_literal_argument_is_an_error_not_a_crash() -> None:
    for text in ["factorial(n=__import__('os').system('ls'))", "factorial(n=x + 1)", "factorial(**kw)"]:
        r = parse_tool_calls(text, TOOLS)
        assert r.calls == [] and len(r.errors) == 1, text


def test_python_call_with_no_arguments() -> None:
    assert only(parse_tool_calls("get_time()", TOOLS)) == ParsedCall("get_time", {}, "python")


def test_truncated_python_call_is_an_error() -> None:
    r = parse_tool_calls('search(query="long que', TOOLS)
    assert r.calls == [] and len(r.errors) == 1 and "truncated" in r.errors[0]


# --- 5. <function=...> tags -----------------------------------------------------------------------


def test_function_tag_with_json() -> None:
    r = parse_tool_calls('<function=get_weather>{"city": "Paris"}</function>')
    assert only(r) == ParsedCall("get_weather", {"city": "Paris"}, "function_tag")


def test_function_tags_unclosed_and_empty() -> None:
    r = parse_tool_calls('Calling.\n<function=get_time></function>\n<function=factorial>{"n": 3}')
    assert calls(r) == [("get_time", {}), ("factorial", {"n": 3})]
    assert r.content == "Calling."


def test_function_tag_with_parameter_tags_inside_tool_call() -> None:
    text = (
        "<tool_call>\n<function=search>\n<parameter=query>\n上海 美食\n</parameter>\n"
        "<parameter=limit>\n5\n</parameter>\n</function>\n</tool_call>"
    )
    assert only(parse_tool_calls(text)) == ParsedCall("search", {"query": "上海 美食", "limit": 5}, "tag")


def test_function_tag_with_bad_json_is_an_error() -> None:
    r = parse_tool_calls('<function=search>{"query": </function>')
    assert r.calls == [] and r.errors == ["search: arguments are not valid JSON"]


# --- 6. lenient JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "search", "arguments": {"query": "x", "limit": 2,},}',
        "{'name': 'search', 'arguments': {'query': 'x', 'limit': 2}}",
        '{"name": "search", "arguments": {"query": "x", "limit": 2, "safe": True, "page": None}}',
        '{name: "search", arguments: {query: "x", limit: 2}}',
    ],
)
def test_lenient_json_repairs(text: str) -> None:
    call = only(parse_tool_calls(text))
    assert call.name == "search"
    assert call.arguments["query"] == "x" and call.arguments["limit"] == 2


def test_truncated_json_at_end_is_an_error() -> None:
    r = parse_tool_calls('OK.\n{"name": "search", "arguments": {"query": "rust", "limit"')
    assert r.calls == [] and len(r.errors) == 1 and "truncated" in r.errors[0]
    assert r.content == "OK."


def test_complete_call_then_truncated_one() -> None:
    r = parse_tool_calls('{"name": "a", "arguments": {}}\n{"name": "b", "argum')
    assert calls(r) == [("a", {})] and len(r.errors) == 1


# --- 7. garbage and prose -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The weather in Paris is sunny today.",
        "巴黎今天天气晴朗。",
        'In JSON you write {"a": 1} and lists like [1, 2, 3].',
        'A user record looks like {"name": "Ann", "age": 31}.',
        "def f(x):\n    return {x: [x]}\n",
        "Use braces { like this and never close them",
        "Call me (maybe) [later] {ok}",
        "42",
        "null",
        "",
    ],
)
def test_prose_and_garbage_are_content(text: str) -> None:
    assert parse_tool_calls(text, None) == ParseResult([], text.strip() or None, [])
    assert parse_tool_calls(text, TOOLS) == ParseResult([], text.strip() or None, [])


def test_print_without_tools_is_content() -> None:
    assert parse_tool_calls('print("hello")') == ParseResult([], 'print("hello")', [])


def test_tool_definition_in_prose_is_not_a_call() -> None:
    text = 'def get_weather(city):\n    return "sunny"'
    assert parse_tool_calls(text, TOOLS) == ParseResult([], text, [])


# --- salvaging output cut off at the token limit ----------------------------------------------------------------


def test_salvage_keeps_complete_calls_and_the_cut_call_less_its_last_argument() -> None:
    text = (
        '<tool_call>\n[{"name": "find_flight", "arguments": {"origin": "Oslo", "date": "2026-12-01"}}, '
        '{"name": "find_flight", "arguments": {"origin": "Rome", "stops": [{"city": "Bern"}, {"city": "Wi'
    )
    assert salvage_truncated(text) == [
        ParsedCall("find_flight", {"origin": "Oslo", "date": "2026-12-01"}, "json"),
        ParsedCall("find_flight", {"origin": "Rome"}, "json"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '[{"name": "f", "arguments": {"a": 1}}, {"name": "g", "argu',  # cut before the arguments
        '[{"name": "f", "arguments": {"a": 1}}, {"na',
    ],
)
def test_salvage_drops_a_call_cut_before_its_arguments(text: str) -> None:
    assert salvage_truncated(text) == [ParsedCall("f", {"a": 1}, "json")]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The weather in Paris is",  # prose
        '{"name": "f", "arguments": {"a": 1}}',  # complete: nothing to salvage
        '{"city": "Paris", "days": [1, 2',  # data, not a call
        "f(a=1, b=[1, 2",  # Python calls are not salvaged
    ],
)
def test_salvage_finds_nothing_without_a_cut_json_call(text: str) -> None:
    assert salvage_truncated(text) == []


def test_salvage_reads_the_openai_shape() -> None:
    text = '[{"type": "function", "function": {"name": "f", "arguments": {"a": "x", "b": "partial'
    assert salvage_truncated(text) == [ParsedCall("f", {"a": "x"}, "json")]


@pytest.mark.parametrize(
    ("text", "arguments"),
    [
        ('{"name": "f", "arguments": {"a": 1}', {"a": 1}),  # cut after the arguments closed: all kept
        ('{"name": "f", "arguments": {"a": 1,', {"a": 1}),  # cut between arguments
        ('{"name": "f", "arguments": {"a": 1, "b": ', {"a": 1}),
        ('{"name": "f", "arguments": {"a": 12', {}),  # cut inside a number: it may have been 125
        ('{"name": "f", "arguments": {"a": "x\\"y', {}),  # an escaped quote does not end the string
    ],
)
def test_salvage_drops_exactly_the_argument_being_written(text: str, arguments: dict[str, Any]) -> None:
    assert salvage_truncated(text) == [ParsedCall("f", arguments, "json")]
