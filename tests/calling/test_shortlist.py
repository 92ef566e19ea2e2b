"""Shortlisting tools by lexical retrieval (`CallingOptions.shortlist`)."""

from __future__ import annotations

from rixin.calling import CallingOptions, Engine
from rixin.calling.shortlist import clauses, shortlist, words
from rixin.tools import Tool, tool_from_openai
from rixin.types import Message, ToolCall

from .test_repair import ScriptedModel, call_text, summary


def make_tool(name: str, description: str, **params: str) -> Tool:
    properties = {p: {"type": "string", "description": d} for p, d in params.items()}
    schema = {"type": "object", "properties": properties, "required": list(params)}
    return tool_from_openai(
        {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}
    )


TOOLS = [
    make_tool("get_weather", "Current weather for a city.", city="City name"),
    make_tool("convert_currency", "Convert money between currencies.", amount="Amount", to="Target currency"),
    make_tool("book_restaurant", "Reserve a table at a restaurant.", restaurant="Restaurant", time="Time"),
    make_tool("searchFlights", "Find flights between two airports.", origin="From", destination="To"),
    make_tool("translate_text", "Translate text into another language.", text="Text", language="Target language"),
    make_tool("stock_price", "Latest share price of a listed company.", ticker="Ticker symbol"),
]


def names(tools: list[Tool]) -> list[str]:
    return [t.name for t in tools]


def test_words_split_names_and_share_stems() -> None:
    assert words("searchFlights get_weather") == ["search", "flight", "weathe"]
    assert words("restaurants") == words("restaurant")


def test_few_tools_are_all_kept() -> None:
    ask = [Message(role="user", content="anything")]
    assert names(shortlist(TOOLS, ask, limit=6)) == names(TOOLS)


def test_the_fitting_tools_are_kept_in_their_original_order() -> None:
    ask = [Message(role="user", content="Book a table at a restaurant and find flights to Rome")]
    assert names(shortlist(TOOLS, ask, limit=2)) == ["book_restaurant", "searchFlights"]


def test_once_it_acts_the_shortlist_keeps_its_size() -> None:
    ask = [Message(role="user", content="Book a table at a restaurant and find flights to Rome")]
    assert len(TOOLS) == 6
    assert names(shortlist(TOOLS, ask, limit=5, size=1)) == ["book_restaurant"]
    assert names(shortlist(TOOLS, ask, limit=5, size=2)) == ["book_restaurant", "searchFlights"]
    assert names(shortlist(TOOLS, ask, limit=6, size=1)) == names(TOOLS)  # at the limit it does not act


def test_chinese_becomes_character_pairs() -> None:
    assert words("查询天气") == ["查询", "询天", "天气"]
    assert words("用GDP增长") == ["用", "gdp", "增长"]


def test_a_chinese_request_finds_its_chinese_tools() -> None:
    tools = [
        make_tool("weather", "查询城市的实时天气。", city="城市名称"),
        make_tool("exchange", "按当前汇率换算货币金额。", amount="金额"),
        make_tool("flights", "搜索两座城市之间的航班。", origin="出发城市"),
        make_tool("translate", "把文本翻译成另一种语言。", text="文本"),
    ]
    ask = [Message(role="user", content="帮我查一下奥斯陆的天气，然后把100美元换算成挪威克朗")]
    assert names(shortlist(tools, ask, limit=3, size=1)) in (["weather"], ["exchange"])
    assert names(shortlist(tools, ask, limit=3, size=1, per_clause=1)) == ["weather", "exchange"]


def test_a_request_splits_into_clauses_that_ask_for_something() -> None:
    assert clauses("Find flights to Rome, and then convert 100 USD to EUR. Thanks!") == [
        "Find flights to Rome",
        "convert 100 USD to EUR.",
    ]
    assert clauses("查询奥斯陆的天气，然后换算汇率") == ["查询奥斯陆的天气，", "换算汇率"]
    assert clauses("Weather in Oslo") == ["Weather in Oslo"]


def test_each_clause_keeps_its_own_best_tool() -> None:
    ask = [Message(role="user", content="Book a table at a restaurant tonight, and translate the restaurant menu text")]
    # The whole request ranks the restaurant first; its second clause alone ranks the translator first.
    assert names(shortlist(TOOLS, ask, limit=3, size=1)) == ["book_restaurant"]
    assert names(shortlist(TOOLS, ask, limit=3, size=1, per_clause=1)) == ["book_restaurant", "translate_text"]
    # A one-clause request adds nothing; below the limit nothing acts at all.
    one = [Message(role="user", content="Book a table at a restaurant tonight")]
    assert names(shortlist(TOOLS, one, limit=3, size=1, per_clause=1)) == ["book_restaurant"]
    assert names(shortlist(TOOLS, ask, limit=6, size=1, per_clause=1)) == names(TOOLS)


def test_a_clause_that_matches_no_tool_adds_none() -> None:
    ask = [Message(role="user", content="Book a table at a restaurant tonight, and then sing me a lullaby")]
    assert names(shortlist(TOOLS, ask, limit=3, size=1, per_clause=2)) == ["book_restaurant"]


def test_tools_already_called_and_named_ones_stay() -> None:
    earlier = ToolCall.make("stock_price", {"ticker": "ACME"})
    conversation = [
        Message(role="user", content="What's the weather in Oslo?"),
        Message(role="assistant", tool_calls=[earlier]),
        Message(role="tool", tool_call_id=earlier.id, content="12.5"),
    ]
    kept = names(shortlist(TOOLS, conversation, limit=1, keep=["translate_text"]))
    assert kept == ["get_weather", "translate_text", "stock_price"]


def test_the_engine_shows_the_model_only_the_shortlist() -> None:
    model = ScriptedModel([call_text(("get_weather", {"city": "Oslo"}))])
    ask = [Message(role="user", content="What's the weather in Oslo?")]
    options = CallingOptions(constrained=False, plan_calls=False, shortlist=2)
    result = Engine(model, options).chat(ask, tools=TOOLS)
    assert summary(result) == [("get_weather", {"city": "Oslo"})]
    assert '"get_weather"' in model.prompts[0] and '"stock_price"' not in model.prompts[0]
    # Acting above 3 tools, it keeps 1.
    model = ScriptedModel([call_text(("get_weather", {"city": "Oslo"}))])
    options = CallingOptions(constrained=False, plan_calls=False, shortlist=3, shortlist_size=1)
    Engine(model, options).chat(ask, tools=TOOLS)
    assert [t.name for t in TOOLS if f'"{t.name}"' in model.prompts[0]] == ["get_weather"]
    # Per clause: the second task's tool joins the one the whole request ranks first.
    two = [Message(role="user", content="Weather in Oslo please, and then the latest share price of ACME")]
    model = ScriptedModel([call_text(("get_weather", {"city": "Oslo"}))])
    options = CallingOptions(constrained=False, plan_calls=False, shortlist=3, shortlist_size=1, shortlist_per_clause=1)
    Engine(model, options).chat(two, tools=TOOLS)
    assert [t.name for t in TOOLS if f'"{t.name}"' in model.prompts[0]] == ["get_weather", "stock_price"]
    # Off: every tool is in the prompt.
    model = ScriptedModel([call_text(("get_weather", {"city": "Oslo"}))])
    Engine(model, CallingOptions(constrained=False, plan_calls=False, shortlist=None)).chat(ask, tools=TOOLS)
    assert all(f'"{t.name}"' in model.prompts[0] for t in TOOLS)
