"""Tool definitions: strict JSON Schemas from Python functions, checked OpenAI tool dicts, call validation."""

from __future__ import annotations

import copy
import inspect
import re
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, overload

import docstring_parser
import jsonschema
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from rixin.errors import RixinError, ToolArgumentsError, ToolSchemaError

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_DEFS = "#/$defs/"
# Keywords whose values are subschemas; everything else ("default", "enum", ...) is data and is left alone.
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")


class ToolNotCallableError(RixinError):
    """invoke() or a call on a tool with no Python function behind it (for example one from a JSON file)."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any] | None = None
    arguments_model: type[BaseModel] | None = field(default=None, repr=False, compare=False)
    """For @tool functions: the pydantic model built from the signature, used to coerce arguments."""
    read_only: bool = False
    """The tool only reads (a search, a lookup): calling it changes nothing. MCP's `readOnlyHint`, an OpenAPI
    GET, `@tool(read_only=True)`, or `"annotations": {"readOnlyHint": true}` beside an OpenAI tool dict's
    "function". The engine's `lookup_first` turns to these tools when an action rests on an invented id."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.function is None:
            raise ToolNotCallableError(f"tool '{self.name}' has no Python function to call")
        return self.function(*args, **kwargs)

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.parameters, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def validate_arguments(self, arguments: Mapping[str, Any]) -> list[str]:
        """Every problem jsonschema finds, one short line each; [] when the arguments are valid."""
        instance = dict(arguments) if isinstance(arguments, Mapping) else arguments
        errors = sorted(self._validator.iter_errors(instance), key=_by_path)
        problems: dict[str, None] = {}  # an ordered set: one "required" error may name several properties
        for error in errors:
            for problem in _describe(error):
                problems[problem] = None
        return list(problems)

    def invoke(self, arguments: Mapping[str, Any]) -> Any:
        problems = self.validate_arguments(arguments)
        if problems:
            raise ToolArgumentsError(f"tool '{self.name}': invalid arguments: " + "; ".join(problems))
        if self.function is None:
            raise ToolNotCallableError(f"tool '{self.name}' has no Python function to call")
        if self.arguments_model is None:
            return self.function(**arguments)
        try:
            values = self.arguments_model.model_validate(dict(arguments))
        except ValidationError as e:  # e.g. a "date" string jsonschema accepted but Python cannot parse
            lines = [f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()]
            raise ToolArgumentsError(f"tool '{self.name}': invalid arguments: " + "; ".join(lines)) from e
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        by_alias = {info.alias: key for key, info in type(values).model_fields.items()}
        for param in inspect.signature(self.function).parameters.values():
            key = by_alias[param.name]
            if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(getattr(values, key))
            elif key in values.model_fields_set:  # leave unset ones to the function's own defaults
                kwargs[param.name] = getattr(values, key)
        return self.function(*args, **kwargs)


def _by_path(error: jsonschema.ValidationError) -> list[str]:
    return [str(p) for p in error.absolute_path]


def _describe(error: jsonschema.ValidationError) -> list[str]:
    path = ".".join(str(p) for p in error.absolute_path)
    prefix, noun = (f"{path}: ", "property") if path else ("", "argument")
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        return [f"{prefix}missing required {noun} {k!r}" for k in required if k not in instance]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
        extras = [k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)]
        return [f"{prefix}unexpected {noun} {k!r}" for k in extras]
    if error.validator in ("anyOf", "oneOf") and error.context:
        # Optional[Model] given a wrong object: report what is wrong inside it, not "valid under none".
        branches: dict[Any, list[jsonschema.ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        near = [b for b in branches.values() if not (len(b) == 1 and b[0].validator == "type" and not b[0].path)]
        if len(near) == 1:
            return [line for sub in sorted(near[0], key=_by_path) for line in _describe(sub)]
    return [prefix + error.message]


# ---------------------------------------------------------------------------------------------- @tool


@overload
def tool(
    fn: Callable[..., Any], /, *, name: str | None = None, description: str | None = None, read_only: bool = False
) -> Tool: ...
@overload
def tool(
    fn: None = None, /, *, name: str | None = None, description: str | None = None, read_only: bool = False
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    read_only: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a typed function into a Tool; usable as `@tool` and `@tool(name=..., description=..., read_only=...)`."""
    # The caller's locals resolve string annotations naming classes local to a function (as pydantic does).
    localns = dict(sys._getframe(1).f_locals)
    if fn is None:
        return lambda f: _build_tool(f, name, description, localns, read_only)
    return _build_tool(fn, name, description, localns, read_only)


def _build_tool(
    fn: Callable[..., Any],
    name: str | None,
    description: str | None,
    localns: dict[str, Any],
    read_only: bool = False,
) -> Tool:
    label = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)

    def fail(problem: str) -> ToolSchemaError:
        return ToolSchemaError(f"cannot make a tool from function '{label}': {problem}")

    if not callable(fn):
        raise fail("not callable")
    tool_name = str(name or getattr(fn, "__name__", ""))
    if not NAME_PATTERN.match(tool_name):
        raise fail(f"tool name {tool_name!r} must match {NAME_PATTERN.pattern} (pass name=...)")
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, localns=localns, include_extras=True)
    except Exception as e:
        raise fail(f"cannot read its signature or type hints: {e}") from e
    doc = docstring_parser.parse(inspect.getdoc(fn) or "")
    param_docs = {p.arg_name: " ".join(p.description.split()) for p in doc.params if p.description}

    fields: dict[str, Any] = {}
    for index, param in enumerate(signature.parameters.values()):
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise fail(f"parameter '{param.name}': *args and **kwargs cannot be described to a model")
        if param.name not in hints:
            raise fail(f"parameter '{param.name}' has no type hint")
        try:  # one parameter at a time, so the error can name the culprit
            TypeAdapter(hints[param.name]).json_schema()
        except Exception as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            problem = f"parameter '{param.name}' has unsupported type {hints[param.name]!r}: {reason}"
            raise fail(problem) from e
        default = ... if param.default is inspect.Parameter.empty else param.default
        # Aliased positional names keep parameter names like "json" or "_x" clear of pydantic's own.
        fields[f"p{index}"] = (hints[param.name], Field(default, alias=param.name))
    try:
        model = create_model(tool_name, __config__=ConfigDict(extra="forbid"), **fields)
        raw = model.model_json_schema(by_alias=True)
    except Exception as e:
        raise fail(f"cannot build a JSON Schema: {e}") from e
    for prop_name, prop in raw.get("properties", {}).items():
        if prop_name in param_docs and "description" not in prop:
            prop["description"] = param_docs[prop_name]
    parameters = strict_schema(raw)
    if description is None:
        description = " ".join((doc.description or "").split("\n\n")[0].split())
    return Tool(tool_name, description, parameters, fn, model, read_only)


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop titles, inline non-recursive $defs, turn const into enum, close every object."""
    defs: dict[str, Any] = schema.get("$defs", {})
    keep = {name for name in defs if name in _reachable(defs, name)}  # recursive ones must stay as $refs
    out: dict[str, Any] = _strict(schema, defs, keep)
    if keep:
        out["$defs"] = {name: _strict(defs[name], defs, keep) for name in sorted(keep)}
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"][len(_DEFS) :]} if str(node.get("$ref", "")).startswith(_DEFS) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _reachable(defs: dict[str, Any], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(_refs(defs[start]))
    while todo:
        name = todo.pop()
        if name not in seen and name in defs:
            seen.add(name)
            todo.extend(_refs(defs[name]))
    return seen


def _strict(node: Any, defs: dict[str, Any], keep: set[str]) -> Any:
    if not isinstance(node, dict):
        return node  # boolean schemas
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS) and ref[len(_DEFS) :] in defs.keys() - keep:
        node = {**defs[ref[len(_DEFS) :]], **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs"):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _strict(v, defs, keep) for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_strict(v, defs, keep) for v in value]
        elif key in _SCHEMA_ONE:
            out[key] = _strict(value, defs, keep)
        else:
            out[key] = value
    if "const" in out and "enum" not in out:  # small models follow "enum" more reliably than "const"
        out["enum"] = [out.pop("const")]
    if out.get("type") == "object" or "properties" in out:
        out.setdefault("additionalProperties", False)  # dict[str, X] keeps its explicit value schema
    return out


# ----------------------------------------------------------------------------------- OpenAI tool dicts


def tool_from_openai(spec: Mapping[str, Any], *, index: int | None = None) -> Tool:
    """Check an OpenAI tool dict (outer `{"type": "function", "function": {...}}` or the bare inner form)."""
    where = f"tool #{index}" if index is not None else "tool"

    def fail(problem: str, label: str = where) -> ToolSchemaError:
        return ToolSchemaError(f"{label}: {problem}")

    if not isinstance(spec, Mapping):
        raise fail(f"expected a JSON object, got {type(spec).__name__}")
    kind = spec.get("type", "function")
    if kind != "function":
        raise fail(f"unsupported tool type {kind!r} (only 'function' tools are supported)")
    inner = spec.get("function", spec)  # or the bare form, which the Responses API uses too
    if not isinstance(inner, Mapping):
        raise fail(f"'function' must be an object, got {type(inner).__name__}")
    name = inner.get("name")
    if not isinstance(name, str) or not name:
        raise fail("missing 'name'" if name is None else f"'name' must be a non-empty string, got {name!r}")
    label = f"tool '{name}'"
    if not NAME_PATTERN.match(name):
        raise fail(f"name must match {NAME_PATTERN.pattern}", label)
    description = inner.get("description") or ""
    if not isinstance(description, str):
        raise fail(f"'description' must be a string, got {type(description).__name__}", label)
    if not isinstance(inner.get("strict", False), bool):
        raise fail("'strict' must be true or false", label)
    parameters = inner.get("parameters")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise fail(f"'parameters' must be a JSON Schema object, got {type(parameters).__name__}", label)
    parameters = copy.deepcopy(dict(parameters))
    if parameters.get("type") != "object":
        raise fail(f"parameters.type must be 'object', got {parameters.get('type')!r}", label)
    parameters.setdefault("properties", {})
    problem = schema_problem(parameters)
    if problem:
        raise fail(problem, label)
    annotations = spec.get("annotations") or {}
    if not isinstance(annotations, Mapping):
        raise fail(f"'annotations' must be an object, got {type(annotations).__name__}", label)
    read_only = annotations.get("readOnlyHint", False)
    if not isinstance(read_only, bool):
        raise fail("annotations.readOnlyHint must be true or false", label)
    return Tool(name, description, parameters, read_only=read_only)


def schema_problem(parameters: dict[str, Any]) -> str | None:
    """The first thing wrong with a parameters schema, as one line naming its path; None when it is fine."""
    try:
        Draft202012Validator.check_schema(parameters)
    except jsonschema.SchemaError as e:
        path = ".".join(["parameters", *map(str, e.absolute_path)])
        message = " ".join(e.message.split())
        return f"{path}: {message[:300] + '…' if len(message) > 300 else message}"
    return _structure_problem(parameters, parameters, "parameters")


def _structure_problem(node: Any, root: dict[str, Any], path: str) -> str | None:
    """What the meta-schema cannot see: required names missing from properties, $refs that go nowhere."""
    if not isinstance(node, dict):
        return None
    ref = node.get("$ref")
    if isinstance(ref, str) and not _resolves(root, ref):
        return f"{path}.$ref: cannot resolve {ref!r} (only local '#/...' references are supported)"
    properties = node.get("properties")
    if isinstance(properties, dict):
        for required in node.get("required", []):
            if required not in properties:
                return f"{path}.required: {required!r} is not in properties"
    for key, value in node.items():
        children: list[tuple[str, Any]] = []
        if key in (*_SCHEMA_MAPS, "$defs") and isinstance(value, dict):
            children = [(f"{key}.{k}", v) for k, v in value.items()]
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            children = [(f"{key}.{i}", v) for i, v in enumerate(value)]
        elif key in _SCHEMA_ONE:
            children = [(key, value)]
        for child_path, child in children:
            problem = _structure_problem(child, root, f"{path}.{child_path}")
            if problem:
                return problem
    return None


def _resolves(root: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#"):
        return False
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def as_tools(items: Iterable[Tool | Mapping[str, Any] | Callable[..., Any]]) -> list[Tool]:
    """Tools, OpenAI tool dicts and plain functions, all as Tools; duplicate names are an error."""
    tools: list[Tool] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if isinstance(item, Tool):
            made = item
        elif isinstance(item, Mapping):
            made = tool_from_openai(item, index=index)
        elif callable(item):
            made = _build_tool(item, None, None, {})  # not tool(): our own locals must not resolve hints
        else:
            raise ToolSchemaError(f"tool #{index}: expected a Tool, a tool dict or a function, got {item!r}")
        if made.name in seen:
            first = seen[made.name]
            raise ToolSchemaError(f"tool '{made.name}': duplicate name (tools #{first} and #{index})")
        seen[made.name] = index
        tools.append(made)
    return tools
