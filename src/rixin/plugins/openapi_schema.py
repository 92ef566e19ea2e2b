"""OpenAPI schema helpers: inline local `$ref`s, and turn OpenAPI 3.0 schema dialect into JSON Schema 2020-12."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rixin.plugins.errors import OpenApiError

_MAPS = ("properties", "patternProperties", "dependentSchemas")
_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")
_DROPPED = ("example", "examples", "xml", "externalDocs", "discriminator")
"""Documentation-only keywords of OpenAPI (examples are data, and an `example` is not valid 2020-12)."""


def resolve_refs(node: Any, document: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` replaced by what it points to. A recursive reference is cut to a plain
    object (a tool's schema must be finite for constrained decoding)."""
    if isinstance(node, list):
        return [resolve_refs(item, document, seen) for item in node]
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return {"type": "object", "description": "(recursive structure)"}
        target = _pointer(document, ref)
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return resolve_refs(merged, document, (*seen, ref))
    return {key: resolve_refs(value, document, seen) for key, value in node.items()}


def _pointer(document: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#/"):
        raise OpenApiError(f"$ref {ref!r}: only references inside the document are supported")
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            raise OpenApiError(f"$ref {ref!r} points nowhere")
        node = node[part]
    if not isinstance(node, Mapping):
        raise OpenApiError(f"$ref {ref!r} does not point to an object")
    return node


def convert_schema(schema: Any) -> dict[str, Any]:
    """An OpenAPI 3.0/3.1 schema (refs already inlined) as JSON Schema 2020-12."""
    out = _convert(schema)
    return out if isinstance(out, dict) else {}


def _convert(node: Any) -> Any:
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key == "nullable":
            continue
        if key in _MAPS and isinstance(value, Mapping):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        elif key in _LISTS and isinstance(value, list):
            out[key] = [_convert(sub) for sub in value]
        elif key in _ONE:
            out[key] = _convert(value)
        else:
            out[key] = value
    if node.get("nullable") is True:  # 3.0's nullable is 3.1's "null" in the type list
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # 3.0: a flag on minimum/maximum; 2020-12: the bound itself.
        if isinstance(out.get(bound), bool) and out.pop(bound) and limit in out:
            out[bound] = out.pop(limit)
    return out
