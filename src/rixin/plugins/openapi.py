"""OpenAPI 3 import: every operation of a document becomes a Tool that makes the HTTP request with httpx.

The tool's schema holds the path, query and header parameters and the JSON request body (an object body's
fields are flattened next to the parameters when no name clashes, which small models follow more easily;
otherwise the body is one `body` argument). `$ref`s are inlined. HTTP errors and unreachable services are
raised as `HttpCallError`, which the agent loop hands to the model as data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from rixin.errors import ToolSchemaError
from rixin.plugins.errors import HttpCallError, OpenApiError
from rixin.plugins.openapi_schema import convert_schema, resolve_refs
from rixin.plugins.schemas import safe_name, tool_from_schema
from rixin.tools import Tool

log = logging.getLogger(__name__)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PARAMETER_PLACES = ("path", "query", "header")
MAX_ERROR_BODY = 500
MAX_DESCRIPTION = 400


@dataclass
class Operation:
    """How a tool's arguments become one HTTP request."""

    method: str
    path: str
    places: dict[str, tuple[str, str]] = field(default_factory=dict)
    """argument name → (where: path|query|header|body-field|body, name on the wire)"""


def openapi_tools(
    spec_or_url: str | Path | Mapping[str, Any],
    *,
    base_url: str | None = None,
    timeout_s: float = 30.0,
    headers: Mapping[str, str] | None = None,
    include: Iterable[str] | None = None,
) -> list[Tool]:
    """The operations of an OpenAPI 3 document (a dict, a file path, or an http(s) URL) as Tools.

    `base_url` defaults to the document's first server (relative ones resolved against the document's URL), or
    the origin of the document's URL. `include` keeps only the operations with those operationIds/tool names."""
    document, source_url = load_document(spec_or_url, timeout_s)
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        raise OpenApiError(f"{_label(spec_or_url)}: not an OpenAPI 3 document (openapi: {version or 'missing'})")
    root = _base_url(document, base_url, source_url, spec_or_url)
    wanted = set(include) if include is not None else None
    client = httpx.Client(base_url=root, timeout=timeout_s, headers=dict(headers or {}))
    tools: list[Tool] = []
    taken: set[str] = set()
    paths = document.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        item = resolve_refs(item, document)
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            name = safe_name(str(operation.get("operationId") or f"{method} {path}"))
            if wanted is not None and name not in wanted and operation.get("operationId") not in wanted:
                continue
            try:
                made, plan = _operation_tool(name, method, path, item, operation, document)
            except (OpenApiError, ToolSchemaError) as error:
                log.warning("OpenAPI operation %s %s skipped: %s", method.upper(), path, error)
                continue
            if made.name in taken:
                continue
            taken.add(made.name)
            # a GET or HEAD only reads (RFC 9110's safe methods): lookups the engine may make first
            read_only = method in ("get", "head")
            tools.append(replace(made, function=_caller(client, plan), read_only=read_only))
    return tools


def load_document(spec_or_url: str | Path | Mapping[str, Any], timeout_s: float = 30.0) -> tuple[dict[str, Any], str]:
    """The document as a dict, and the URL it came from ("" for files and dicts)."""
    if isinstance(spec_or_url, Mapping):
        return dict(spec_or_url), ""
    text = str(spec_or_url)
    if text.startswith(("http://", "https://")):
        try:
            response = httpx.get(text, timeout=timeout_s, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise OpenApiError(f"cannot fetch OpenAPI document {text}: {error}") from error
        return _parse(response.text, text), text
    try:
        return _parse(Path(text).read_text(encoding="utf-8"), text), ""
    except OSError as error:
        raise OpenApiError(f"cannot read OpenAPI document {text}: {error.strerror or error}") from error


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        import yaml  # type: ignore[import-untyped, unused-ignore]

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise OpenApiError(f"{label}: neither JSON nor YAML: {error}") from error
    if not isinstance(data, dict):
        raise OpenApiError(f"{label}: an OpenAPI document must be an object")
    return data


def _label(spec_or_url: object) -> str:
    return "OpenAPI document" if isinstance(spec_or_url, Mapping) else str(spec_or_url)


def _base_url(document: Mapping[str, Any], given: str | None, source_url: str, spec: object) -> str:
    if given:
        return given
    servers = document.get("servers") or []
    first = servers[0].get("url") if servers and isinstance(servers[0], Mapping) else None
    if isinstance(first, str) and first:
        if first.startswith(("http://", "https://")):
            return first
        if source_url:
            return urljoin(source_url, first)
    if source_url:
        parts = urlsplit(source_url)
        return f"{parts.scheme}://{parts.netloc}"
    raise OpenApiError(f"{_label(spec)}: no base_url given and the document names no absolute server URL")


def _operation_tool(
    name: str,
    method: str,
    path: str,
    item: Mapping[str, Any],
    operation: Mapping[str, Any],
    document: Mapping[str, Any],
) -> tuple[Tool, Operation]:
    plan = Operation(method.upper(), path)
    properties: dict[str, Any] = {}
    required: list[str] = []
    parameters: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
        parameter = resolve_refs(raw, document)
        if isinstance(parameter, Mapping) and parameter.get("in") in PARAMETER_PLACES:
            parameters[(str(parameter["in"]), str(parameter.get("name")))] = parameter  # an operation's wins
    for (place, wire), parameter in parameters.items():
        argument = wire if wire not in properties else f"{place}_{wire}"
        schema = convert_schema(resolve_refs(parameter.get("schema") or {"type": "string"}, document))
        if parameter.get("description") and "description" not in schema:
            schema["description"] = str(parameter["description"])
        properties[argument] = schema
        plan.places[argument] = (place, wire)
        if parameter.get("required") or place == "path":
            required.append(argument)
    body = _json_body(operation, document)
    if body is not None:
        schema, body_required = body
        fields = schema.get("properties") if schema.get("type") == "object" else None
        if isinstance(fields, dict) and fields and not set(fields) & set(properties):
            for key, value in fields.items():
                properties[key] = value
                plan.places[key] = ("body-field", key)
            if body_required:
                required += [key for key in schema.get("required", []) if key in fields]
        else:
            argument = "body" if "body" not in properties else "request_body"
            properties[argument] = schema
            plan.places[argument] = ("body", argument)
            if body_required:
                required.append(argument)
    description = " ".join(
        str(part).strip() for part in (operation.get("summary"), operation.get("description")) if part
    )
    description = description or f"{method.upper()} {path}"
    if len(description) > MAX_DESCRIPTION:
        description = description[: MAX_DESCRIPTION - 1] + "…"
    schema = {"type": "object", "properties": properties, "required": required}
    return tool_from_schema(name, description, schema), plan


def _json_body(operation: Mapping[str, Any], document: Mapping[str, Any]) -> tuple[dict[str, Any], bool] | None:
    body = resolve_refs(operation.get("requestBody"), document)
    if not isinstance(body, Mapping):
        return None
    content = body.get("content") or {}
    for media, entry in content.items():
        if media == "application/json" or str(media).endswith("+json"):
            schema = entry.get("schema") if isinstance(entry, Mapping) else None
            return convert_schema(resolve_refs(schema or {}, document)), bool(body.get("required"))
    raise OpenApiError(f"request body type(s) {', '.join(content) or 'none'} not supported (only JSON)")


def _caller(client: httpx.Client, plan: Operation) -> Any:
    def call(**arguments: Any) -> Any:
        path = plan.path
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        body: Any = None
        fields: dict[str, Any] = {}
        for argument, value in arguments.items():
            place, wire = plan.places.get(argument, ("query", argument))
            if place == "path":
                path = path.replace("{" + wire + "}", quote(str(value), safe=""))
            elif place == "query" and value is not None:
                query[wire] = value
            elif place == "header" and value is not None:
                headers[wire] = str(value)
            elif place == "body":
                body = value
            elif place == "body-field":
                fields[wire] = value
        if fields:
            body = fields
        where = f"{plan.method} {path}"
        try:
            response = client.request(
                plan.method, path.lstrip("/"), params=query, headers=headers, json=body if body is not None else None
            )
        except httpx.TimeoutException:
            raise HttpCallError(f"{where}: no answer within {client.timeout.read:g} s") from None
        except httpx.HTTPError as error:
            raise HttpCallError(f"{where}: {type(error).__name__}: {error}") from None
        if response.status_code >= 400:
            text = response.text.strip()
            text = text if len(text) <= MAX_ERROR_BODY else text[:MAX_ERROR_BODY] + "…"
            raise HttpCallError(f"{where}: HTTP {response.status_code} {response.reason_phrase}: {text}")
        if not response.content:
            return f"HTTP {response.status_code} (no content)"
        if "json" in response.headers.get("content-type", ""):
            try:
                return response.json()
            except ValueError:
                pass
        return response.text

    return call
