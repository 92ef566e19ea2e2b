from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import AfterValidator, BaseModel, Field
from typing_extensions import TypedDict

from rixin.errors import RixinError, ToolArgumentsError, ToolSchemaError
from rixin.tools import (
    Tool,
    ToolNotCallableError,
    as_tools,
    load_tools_file,
    tool,
    tool_from_openai,
    tools_from_module,
)


class Unit(Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Location(BaseModel):
    lat: float
    lon: float


class Address(BaseModel):
    street: str
    location: Location


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []


class Options(TypedDict):
    verbose: bool
    level: int


def walk_objects(schema: Any) -> list[dict[str, Any]]:
    """Every dict in a schema that describes an object."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            found.append(schema)
        for key, value in schema.items():
            if key not in ("default", "enum"):
                found.extend(walk_objects(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(walk_objects(value))
    return found


def has_key(schema: Any, key: str) -> bool:
    if isinstance(schema, dict):
        return (
            key in schema
            or any(has_key(v, key) for k, v in schema.items() if k != "properties")
            or any(has_key(v, key) for v in schema.get("properties", {}).values())
        )
    if isinstance(schema, list):
        return any(has_key(v, key) for v in schema)
    return False


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


# ------------------------------------------------------------------------------------- schema building


def test_primitives_and_defaults() -> None:
    @tool
    def f(a: str, b: int, c: float = 1.5, d: bool = False) -> None:
        """Do f."""

    assert f.name == "f"
    assert f.description == "Do f."
    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "integer"},
            "c": {"type": "number", "default": 1.5},
            "d": {"type": "boolean", "default": False},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    Draft202012Validator.check_schema(f.parameters)


def test_no_parameters() -> None:
    @tool
    def ping() -> str:
        return "pong"

    assert ping.parameters == {"type": "object", "properties": {}, "additionalProperties": False}
    assert ping.description == ""
    assert ping.invoke({}) == "pong"


def test_optional_gives_anyof_null() -> None:
    @tool
    def f(x: int | None = None, y: str | None = "a") -> None: ...

    props = f.parameters["properties"]
    assert props["x"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert props["y"]["default"] == "a"
    assert "required" not in f.parameters or f.parameters["required"] == []


def test_literal_and_enum_become_enum() -> None:
    @tool
    def f(mode: Literal["fast", "slow"], unit: Unit = Unit.CELSIUS, only: Literal["x"] = "x") -> None: ...

    props = f.parameters["properties"]
    assert props["mode"]["enum"] == ["fast", "slow"]
    assert props["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert props["unit"]["default"] == "celsius"
    assert props["only"]["enum"] == ["x"] and "const" not in props["only"]
    assert "$defs" not in f.parameters and not has_key(f.parameters, "$ref")


def test_collections() -> None:
    @tool
    def f(ids: list[int], scores: dict[str, float], pair: tuple[int, str], tags: set[str]) -> None: ...

    props = f.parameters["properties"]
    assert props["ids"] == {"type": "array", "items": {"type": "integer"}}
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert [s["type"] for s in props["pair"]["prefixItems"]] == ["integer", "string"]
    assert props["tags"]["uniqueItems"] is True


def test_nested_models_are_inlined_and_closed() -> None:
    @tool
    def ship(address: Address, options: Options, near: Location | None = None) -> None:
        """Ship a parcel."""

    params = ship.parameters
    assert "$defs" not in params and not has_key(params, "$ref")
    address = params["properties"]["address"]
    assert address["type"] == "object"
    assert address["required"] == ["street", "location"]
    assert address["properties"]["location"]["properties"]["lat"] == {"type": "number"}
    assert params["properties"]["options"]["required"] == ["verbose", "level"]
    objects = walk_objects(params)
    assert len(objects) >= 5
    assert all(o["additionalProperties"] is False for o in objects)


def test_no_title_noise_but_property_named_title_kept() -> None:
    class Book(BaseModel):
        title: str

    @tool
    def add_book(book: Book, title: str) -> None: ...

    assert "title" in add_book.parameters["properties"]
    assert "title" in add_book.parameters["properties"]["book"]["properties"]
    assert "title" not in add_book.parameters
    assert "title" not in add_book.parameters["properties"]["title"]
    assert "title" not in add_book.parameters["properties"]["book"]


def test_recursive_model_keeps_defs() -> None:
    @tool
    def total(tree: TreeNode) -> int:
        return tree.value + sum(total.function(c) for c in tree.children)  # type: ignore[misc]

    params = total.parameters
    assert params["properties"]["tree"] == {"$ref": "#/$defs/TreeNode"}
    assert params["$defs"]["TreeNode"]["additionalProperties"] is False
    Draft202012Validator.check_schema(params)
    args = {"tree": {"value": 1, "children": [{"value": 2}, {"value": 3, "children": [{"value": 4}]}]}}
    assert total.validate_arguments(args) == []
    assert total.invoke(args) == 10
    assert total.validate_arguments({"tree": {"value": 1, "children": [{"value": "x"}]}}) == [
        "tree.children.0.value: 'x' is not of type 'integer'"
    ]


def test_google_docstring() -> None:
    @tool
    def get_weather(city: str, unit: Unit = Unit.CELSIUS) -> str:
        """Get the current weather
        for a city.

        Longer text that is not part of the description.

        Args:
            city: The city name,
                for example Paris.
            unit (Unit): Temperature unit.
        """
        return city

    assert get_weather.description == "Get the current weather for a city."
    props = get_weather.parameters["properties"]
    assert props["city"]["description"] == "The city name, for example Paris."
    assert props["unit"]["description"] == "Temperature unit."


def test_numpy_docstring() -> None:
    @tool
    def area(width: float, height: float) -> float:
        """Area of a rectangle.

        Parameters
        ----------
        width : float
            Width in metres.
        height : float
            Height in metres.
        """
        return width * height

    assert area.description == "Area of a rectangle."
    assert area.parameters["properties"]["width"]["description"] == "Width in metres."
    assert area.parameters["properties"]["height"]["description"] == "Height in metres."


def test_rest_docstring_and_annotated_description_wins() -> None:
    @tool
    def search(query: str, limit: Annotated[int, Field(description="At most this many.", ge=1)] = 10) -> None:
        """Search the web.

        :param query: What to look for.
        :param limit: Ignored, Annotated wins.
        """

    props = search.parameters["properties"]
    assert search.description == "Search the web."
    assert props["query"]["description"] == "What to look for."
    assert props["limit"] == {
        "type": "integer",
        "minimum": 1,
        "default": 10,
        "description": "At most this many.",
    }


def test_decorator_with_arguments_and_still_callable() -> None:
    @tool(name="add.numbers", description="Add two numbers.")
    def add(a: int, b: int = 2) -> int:
        """Not this."""
        return a + b

    assert isinstance(add, Tool)
    assert add.name == "add.numbers" and add.description == "Add two numbers."
    assert add(1) == 3 and add(1, b=5) == 6
    assert add.function is not None and tool(add.function, name="plain").name == "plain"


def test_parameter_names_that_clash_with_pydantic() -> None:
    @tool
    def f(json: str, model_config: int, copy: bool = True) -> tuple[str, int, bool]:
        return json, model_config, copy

    assert set(f.parameters["properties"]) == {"json", "model_config", "copy"}
    assert f.invoke({"json": "x", "model_config": 1}) == ("x", 1, True)


def test_to_openai() -> None:
    @tool
    def f(x: int) -> None:
        """F."""

    assert f.to_openai() == {
        "type": "function",
        "function": {"name": "f", "description": "F.", "parameters": f.parameters},
    }
    assert tool_from_openai(f.to_openai()) == Tool("f", "F.", f.parameters)


# ------------------------------------------------------------------------------------------ rejections


def _args(*args: int) -> None: ...
def _kwargs(**kwargs: int) -> None: ...
def _untyped(a, b: int) -> None: ...  # type: ignore[no-untyped-def]
def _callable_param(callback: Callable[[int], int]) -> None: ...


class Opaque:
    pass


def _arbitrary(thing: Opaque) -> None: ...


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (_args, "function '_args': parameter 'args': *args and **kwargs"),
        (_kwargs, "function '_kwargs': parameter 'kwargs': *args and **kwargs"),
        (_untyped, "function '_untyped': parameter 'a' has no type hint"),
        (_callable_param, "function '_callable_param': parameter 'callback' has unsupported type"),
        (_arbitrary, "function '_arbitrary': parameter 'thing' has unsupported type"),
    ],
)
def test_bad_signatures_are_rejected(fn: Callable[..., Any], expected: str) -> None:
    with pytest.raises(ToolSchemaError, match=r"^cannot make a tool from ") as info:
        tool(fn)
    assert expected in str(info.value)


def test_bad_names_and_unresolvable_hints() -> None:
    with pytest.raises(ToolSchemaError, match="tool name '<lambda>' must match"):
        tool(lambda: None)
    assert tool(lambda: 1, name="one")() == 1

    def f(x: Missing) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(ToolSchemaError, match=r"function '.*f': cannot read its signature or type hints"):
        tool(f)


# ----------------------------------------------------------------------------------- tool_from_openai


def test_tool_from_openai_outer_and_bare_forms() -> None:
    outer = tool_from_openai(WEATHER)
    bare = tool_from_openai(WEATHER["function"])  # type: ignore[arg-type]
    assert outer == bare
    assert outer.name == "get_weather" and outer.description == "Current weather for a city."
    assert outer.function is None
    # the input is copied, not shared
    assert outer.parameters is not WEATHER["function"]["parameters"]  # type: ignore[index]


def test_tool_from_openai_defaults() -> None:
    t = tool_from_openai({"type": "function", "function": {"name": "now", "strict": True}})
    assert t.description == ""
    assert t.parameters == {"type": "object", "properties": {}}
    t2 = tool_from_openai({"name": "x", "parameters": {"type": "object"}})
    assert t2.parameters == {"type": "object", "properties": {}}
    # extra keys next to type "function" are tolerated
    assert tool_from_openai({**WEATHER, "cache_control": {"type": "ephemeral"}}).name == "get_weather"


def test_a_tool_says_it_only_reads_by_decorator_or_mcp_style_annotations() -> None:
    @tool(read_only=True)
    def look(x: int) -> int:
        """Look."""
        return x

    assert look.read_only and not tool(lambda: 1, name="act").read_only
    assert "annotations" not in look.to_openai()  # what a model's prompt shows is unchanged
    assert not tool_from_openai(WEATHER).read_only
    assert tool_from_openai({**WEATHER, "annotations": {"readOnlyHint": True}}).read_only
    assert not tool_from_openai({**WEATHER, "annotations": {"destructiveHint": True}}).read_only
    with pytest.raises(ToolSchemaError, match=r"annotations\.readOnlyHint must be true or false"):
        tool_from_openai({**WEATHER, "annotations": {"readOnlyHint": "yes"}})
    with pytest.raises(ToolSchemaError, match="'annotations' must be an object"):
        tool_from_openai({**WEATHER, "annotations": ["readOnlyHint"]})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([1, 2], "tool #3: expected a JSON object, got list"),
        ({"type": "code_interpreter"}, "tool #3: unsupported tool type 'code_interpreter'"),
        ({"type": "function", "function": "x"}, "tool #3: 'function' must be an object, got str"),
        ({"function": {"description": "no name"}}, "tool #3: missing 'name'"),
        ({"function": {"name": 5}}, "tool #3: 'name' must be a non-empty string, got 5"),
        ({"function": {"name": "get weather"}}, "tool 'get weather': name must match ^[a-zA-Z0-9_.-]{1,64}$"),
        ({"function": {"name": "x" * 65}}, "name must match"),
        ({"name": "f", "description": 3}, "tool 'f': 'description' must be a string, got int"),
        ({"name": "f", "strict": "yes"}, "tool 'f': 'strict' must be true or false"),
        ({"name": "f", "parameters": []}, "tool 'f': 'parameters' must be a JSON Schema object, got list"),
        (
            {"name": "f", "parameters": {"type": "array"}},
            "tool 'f': parameters.type must be 'object', got 'array'",
        ),
        (
            {"name": "f", "parameters": {"properties": {}}},
            "tool 'f': parameters.type must be 'object', got None",
        ),
        (
            {"name": "f", "parameters": {"type": "object", "properties": {"city": {"type": "strin"}}}},
            "tool 'f': parameters.properties.city.type: 'strin' is not valid under any of the given schemas",
        ),
        (
            {
                "name": "f",
                "parameters": {"type": "object", "properties": {"n": {"type": "integer", "minimum": "0"}}},
            },
            "tool 'f': parameters.properties.n.minimum: '0' is not of type 'number'",
        ),
        (
            {"name": "f", "parameters": {"type": "object", "properties": {"a": {}}, "required": ["a", "b"]}},
            "tool 'f': parameters.required: 'b' is not in properties",
        ),
        (
            {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "properties": {"loc": {"type": "object", "properties": {}, "required": ["lat"]}},
                },
            },
            "tool 'f': parameters.properties.loc.required: 'lat' is not in properties",
        ),
        (
            {"name": "f", "parameters": {"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}}},
            "tool 'f': parameters.properties.a.$ref: cannot resolve '#/$defs/Nope'",
        ),
    ],
)
def test_tool_from_openai_rejections(spec: Any, message: str) -> None:
    with pytest.raises(ToolSchemaError) as info:
        tool_from_openai(spec, index=3)
    text = str(info.value)
    assert message in text
    assert text.startswith(("tool #3: ", "tool 'f': ", "tool 'get weather': ", "tool 'xxx"))
    assert "\n" not in text


def test_tool_from_openai_local_refs_resolve() -> None:
    spec = {
        "name": "f",
        "parameters": {
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": {"type": "integer"}},
        },
    }
    t = tool_from_openai(spec)
    assert t.validate_arguments({"a": 1}) == []
    assert t.validate_arguments({"a": "x"}) == ["a: 'x' is not of type 'integer'"]


# ------------------------------------------------------------------------------------ validation, invoke


def test_validate_arguments_messages() -> None:
    weather = tool_from_openai(WEATHER)
    assert weather.validate_arguments({"city": "Paris", "unit": "celsius"}) == []
    problems = weather.validate_arguments({"city": 5, "foo": 1, "bar": 2})
    assert problems == [
        "missing required argument 'unit'",
        "unexpected argument 'foo'",
        "unexpected argument 'bar'",
        "city: 5 is not of type 'string'",
    ]
    assert weather.validate_arguments({"city": "x", "unit": "kelvin"}) == [
        "unit: 'kelvin' is not one of ['celsius', 'fahrenheit']"
    ]


def test_validate_arguments_nested_and_optional() -> None:
    @tool
    def f(address: Address, near: Location | None = None, when: date | None = None) -> None: ...

    problems = f.validate_arguments(
        {"address": {"street": 1, "location": {"lat": 1, "lon": 2, "alt": 3}}, "near": {"lat": "x"}}
    )
    assert problems == [
        "address.location: unexpected property 'alt'",
        "address.street: 1 is not of type 'string'",
        "near: missing required property 'lon'",
        "near.lat: 'x' is not of type 'number'",
    ]
    assert f.validate_arguments({"address": {"street": "s", "location": {"lat": 1, "lon": 2}}}) == []
    assert f.validate_arguments({"address": {"street": "s", "location": {"lat": 1, "lon": 2}}, "when": "soon"}) == [
        "when: 'soon' is not a 'date'"
    ]


def test_invoke_coerces_enum_model_date() -> None:
    seen: dict[str, Any] = {}

    @tool
    def book(unit: Unit, where: Location, day: date, mode: Literal["a", "b"] = "a", count: int = 7) -> str:
        seen.update(unit=unit, where=where, day=day, mode=mode, count=count)
        return "ok"

    assert book.invoke({"unit": "fahrenheit", "where": {"lat": 1, "lon": 2.5}, "day": "2024-05-01"}) == "ok"
    assert seen["unit"] is Unit.FAHRENHEIT
    assert seen["where"] == Location(lat=1.0, lon=2.5)
    assert seen["day"] == date(2024, 5, 1)
    assert seen["mode"] == "a" and seen["count"] == 7


def test_invoke_positional_only_and_function_defaults() -> None:
    @tool
    def f(a: int, /, b: list[int] | None = None, *, c: str = "c") -> tuple[int, Any, str]:
        return a, b, c

    assert f.invoke({"a": 1}) == (1, None, "c")
    assert f.invoke({"a": 1, "b": [2], "c": "z"}) == (1, [2], "z")


def test_invoke_rejects_bad_arguments() -> None:
    @tool
    def f(city: str, day: date) -> None: ...

    with pytest.raises(ToolArgumentsError) as info:
        f.invoke({"city": 5, "x": 1})
    message = str(info.value)
    assert message.startswith("tool 'f': invalid arguments: ")
    for part in (
        "missing required argument 'day'",
        "unexpected argument 'x'",
        "city: 5 is not of type 'string'",
    ):
        assert part in message
    with pytest.raises(ToolArgumentsError, match=r"tool 'f': invalid arguments: day: '2024-02-30' is not a"):
        f.invoke({"city": "x", "day": "2024-02-30"})


def test_invoke_reports_pydantic_only_problems() -> None:
    def even(value: int) -> int:
        if value % 2:
            raise ValueError("must be even")
        return value

    @tool
    def f(n: Annotated[int, AfterValidator(even)]) -> int:
        return n

    assert f.validate_arguments({"n": 3}) == []  # JSON Schema cannot express the validator
    assert f.invoke({"n": 4}) == 4
    with pytest.raises(ToolArgumentsError, match=r"^tool 'f': invalid arguments: n: Value error, must be even"):
        f.invoke({"n": 3})


def test_invoke_without_function() -> None:
    weather = tool_from_openai(WEATHER)
    with pytest.raises(ToolNotCallableError, match="tool 'get_weather' has no Python function") as info:
        weather.invoke({"city": "x", "unit": "celsius"})
    assert isinstance(info.value, RixinError) and not isinstance(info.value, ToolSchemaError)
    with pytest.raises(ToolNotCallableError):
        weather()
    plain = Tool("echo", "", {"type": "object", "properties": {"x": {}}}, function=lambda x: x)
    assert plain.invoke({"x": 3}) == 3


# -------------------------------------------------------------------------------------------- as_tools


def test_as_tools_mixed_and_duplicates() -> None:
    @tool
    def a(x: int) -> int:
        return x

    def b(y: str) -> str:
        return y

    tools = as_tools([a, WEATHER, b])
    assert [t.name for t in tools] == ["a", "get_weather", "b"]
    assert tools[2].function is b
    with pytest.raises(ToolSchemaError, match=r"tool 'a': duplicate name \(tools #0 and #2\)"):
        as_tools([a, WEATHER, {"name": "a"}])
    with pytest.raises(ToolSchemaError, match="tool #1: expected a Tool, a tool dict or a function"):
        as_tools([a, 42])  # type: ignore[list-item]
    with pytest.raises(ToolSchemaError, match=r"^tool #1: missing 'name'"):
        as_tools([a, {"parameters": {}}])


# ------------------------------------------------------------------------------------------ files


def _at(path: Path) -> str:
    """A regex for a message that starts with the path."""
    return "^" + re.escape(str(path))


def test_load_tools_file_shapes(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([WEATHER, {"name": "now"}]))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"tools": [WEATHER]}))
    single = tmp_path / "single.json"
    single.write_text(json.dumps(WEATHER))
    assert [t.name for t in load_tools_file(listed)] == ["get_weather", "now"]
    assert [t.name for t in load_tools_file(str(wrapped))] == ["get_weather"]
    assert [t.name for t in load_tools_file(single)] == ["get_weather"]


def test_load_tools_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ToolSchemaError, match=_at(missing) + r": cannot read tools file"):
        load_tools_file(missing)

    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[\n  {"name": "a"},\n  {"name": "b",}\n]\n')
    with pytest.raises(ToolSchemaError, match=_at(bad_json) + r": not valid JSON: .*\(line 3, column \d+\)"):
        load_tools_file(bad_json)

    wrong_shape = tmp_path / "shape.json"
    wrong_shape.write_text("42")
    with pytest.raises(ToolSchemaError, match=_at(wrong_shape) + r": expected a list of tools"):
        load_tools_file(wrong_shape)
    wrong_shape.write_text('{"tools": {"name": "x"}}')
    with pytest.raises(ToolSchemaError, match=_at(wrong_shape) + r": 'tools' must be a list, got dict"):
        load_tools_file(wrong_shape)
    wrong_shape.write_text('[{"name": "x"}, "y"]')
    with pytest.raises(ToolSchemaError, match=_at(wrong_shape) + r": tool #1: expected a JSON object, got str"):
        load_tools_file(wrong_shape)

    bad_schema = tmp_path / "schema.json"
    bad = {"name": "f", "parameters": {"type": "object", "properties": {"city": {"type": "strin"}}}}
    bad_schema.write_text(json.dumps([WEATHER, bad]))
    with pytest.raises(ToolSchemaError) as info:
        load_tools_file(bad_schema)
    assert str(info.value).startswith(f"{bad_schema}: tool 'f': parameters.properties.city.type: 'strin'")

    duplicate = tmp_path / "dup.json"
    duplicate.write_text(json.dumps([WEATHER, WEATHER]))
    with pytest.raises(ToolSchemaError, match=_at(duplicate) + r": tool 'get_weather': duplicate name"):
        load_tools_file(duplicate)


def test_tools_from_module(tmp_path: Path) -> None:
    source = tmp_path / "my_tools.py"
    source.write_text(
        textwrap.dedent(
            '''
            from enum import Enum
            from pydantic import BaseModel
            from rixin.tools import tool

            class Unit(Enum):
                C = "c"
                F = "f"

            class Where(BaseModel):
                city: str

            @tool
            def zeta(where: Where, unit: Unit = Unit.C) -> str:
                """Last letter first."""
                return f"{where.city}:{unit.name}"

            @tool(name="alpha")
            def first(x: int) -> int:
                return x

            alias = zeta  # the same tool twice is still one tool

            def not_a_tool() -> None: ...
            '''
        )
    )
    tools = tools_from_module(source)
    assert [t.name for t in tools] == ["zeta", "alpha"]
    assert tools[0].description == "Last letter first."
    assert tools[0].invoke({"where": {"city": "Oslo"}, "unit": "f"}) == "Oslo:F"
    # importing twice gives independent modules
    assert [t.name for t in tools_from_module(str(source))] == ["zeta", "alpha"]


def test_tools_from_module_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolSchemaError, match=r"nope\.py: no such file"):
        tools_from_module(tmp_path / "nope.py")
    broken = tmp_path / "broken.py"
    broken.write_text("import definitely_not_a_module_xyz\n")
    with pytest.raises(ToolSchemaError, match=_at(broken) + r": cannot import: ModuleNotFoundError: .*xyz"):
        tools_from_module(broken)
    bad_tool = tmp_path / "bad_tool.py"
    bad_tool.write_text("from rixin.tools import tool\n\n@tool\ndef f(*args: int) -> None: ...\n")
    with pytest.raises(ToolSchemaError, match=_at(bad_tool) + r": cannot import: ToolSchemaError: .*'args'"):
        tools_from_module(bad_tool)
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def f(:\n")
    with pytest.raises(ToolSchemaError, match=_at(syntax) + r": cannot import: SyntaxError"):
        tools_from_module(syntax)
