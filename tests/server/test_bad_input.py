"""Bad input with raw httpx: every mistake is an OpenAI-style error object with a 4xx status, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rixin.server import ServerConfigError, ServerSettings
from rixin.store import Store

from .conftest import Keys
from .helpers import FakeModel, RunningServer, serve_in_thread

SMALL_BODY = 64 * 1024
SMALL_FILE = 128 * 1024
GOOD: dict[str, Any] = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def server(module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    settings = ServerSettings(max_body_bytes=SMALL_BODY, max_file_bytes=SMALL_FILE)
    with serve_in_thread(settings, model=FakeModel(), store=module_store) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer, keys: Keys) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.v1, headers={"Authorization": f"Bearer {keys.alice}"}, timeout=30) as client:
        yield client


def assert_error(response: httpx.Response, status: int, param: str | None = None, code: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == ("rate_limit_exceeded" if status == 429 else "invalid_request_error")
    if param is not None:
        assert error["param"] == param, error
    if code is not None:
        assert error["code"] == code, error
    message: str = error["message"]
    return message


def post_chat(http: httpx.Client, body: Any) -> httpx.Response:
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return http.post("/chat/completions", content=content, headers={"content-type": "application/json"})


def test_a_good_request_works(http: httpx.Client) -> None:
    response = post_chat(http, GOOD)
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == "Hello, world!"


@pytest.mark.parametrize("body", ["{bad json", '{"model": "fake-model",', "", "[1, 2]", "null", '"text"', "42"])
def test_malformed_json(http: httpx.Client, body: str) -> None:
    assert_error(post_chat(http, body), 400, code="invalid_json" if body else None)


def test_not_json_content_type(http: httpx.Client) -> None:
    response = http.post("/chat/completions", content=json.dumps(GOOD), headers={"content-type": "text/plain"})
    assert_error(response, 400)


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"model": 5}, "model"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0]"),
        ({"messages": [{"content": "no role"}]}, "messages[0]"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"max_tokens": "5"}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 3}, "temperature"),
        ({"stream": "yes"}, "stream"),
        ({"stop": 5}, "stop"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"n": 2}, "n"),
        ({"tools": {"type": "function"}}, "tools"),
        ({"tools": [{"type": "retrieval"}]}, "tools[0].type"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"parallel_tool_calls": "true"}, "parallel_tool_calls"),
        ({"response_format": {"type": "xml"}}, "response_format"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "bad name!"}}}, None),
        ({"stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
    ],
)
def test_wrong_types_and_values(http: httpx.Client, change: dict[str, Any], param: str | None) -> None:
    assert_error(post_chat(http, {**GOOD, **change}), 400, param=param)


@pytest.mark.parametrize("field", ["foo", "functionz", "messages_extra"])
def test_unknown_fields(http: httpx.Client, field: str) -> None:
    message = assert_error(post_chat(http, {**GOOD, field: 1}), 400, param=field, code="unknown_parameter")
    assert field in message


def test_unknown_field_inside_a_message(http: httpx.Client) -> None:
    body = {**GOOD, "messages": [{"role": "user", "content": "hi", "mood": "happy"}]}
    assert_error(post_chat(http, body), 400, param="messages[0].mood", code="unknown_parameter")


def test_unsupported_content_parts(http: httpx.Client) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    body = {**GOOD, "messages": [{"role": "user", "content": [{"type": "text", "text": "see"}, image]}]}
    assert_error(post_chat(http, body), 400, param="messages[0].content[1].type")


def tool(parameters: Any, name: str = "get_weather") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


@pytest.mark.parametrize(
    ("tools", "fragment"),
    [
        ([tool({"type": "object", "properties": {"city": {"type": "strng"}}})], "parameters.properties.city.type"),
        ([tool({"type": "array"})], "parameters.type"),
        ([tool({"type": "object", "properties": {}, "required": ["city"]})], "parameters.required"),
        ([tool({"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}})], "$ref"),
        ([tool({"type": "object"}, name="bad name")], "name must match"),
        ([tool({"type": "object"}), tool({"type": "object"})], "duplicate name"),
    ],
)
def test_invalid_tool_schemas(http: httpx.Client, tools: list[dict[str, Any]], fragment: str) -> None:
    message = assert_error(post_chat(http, {**GOOD, "tools": tools}), 400, param="tools", code="invalid_tool_schema")
    assert fragment in message


def test_tool_choice_must_name_a_tool(http: httpx.Client) -> None:
    named = {"type": "function", "function": {"name": "missing"}}
    body = {**GOOD, "tools": [tool({"type": "object"})], "tool_choice": named}
    assert_error(post_chat(http, body), 400, param="tool_choice")
    assert_error(post_chat(http, {**GOOD, "tool_choice": "required"}), 400, param="tool_choice")


def test_invalid_response_format_schema(http: httpx.Client) -> None:
    spec = {"name": "out", "schema": {"type": "object", "properties": {"a": {"type": 5}}}}
    body = {**GOOD, "response_format": {"type": "json_schema", "json_schema": spec}}
    assert_error(post_chat(http, body), 400, code="invalid_schema")


def test_unknown_model(http: httpx.Client) -> None:
    assert_error(post_chat(http, {**GOOD, "model": "gpt-4o"}), 404, param="model", code="model_not_found")


def test_oversized_body_declared(http: httpx.Client) -> None:
    body = {**GOOD, "messages": [{"role": "user", "content": "x" * (SMALL_BODY + 10)}]}
    assert_error(post_chat(http, body), 413, code="request_too_large")


def test_oversized_body_streamed_without_length(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "fake-model", "messages": [{"role": "user", "content": "'
        for _ in range(SMALL_BODY // 1024 + 4):
            yield b"x" * 1024
        yield b'"}]}'

    response = http.post("/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413)


def test_oversized_file_upload(http: httpx.Client) -> None:
    files = {"file": ("big.bin", b"x" * (SMALL_FILE + 1), "application/octet-stream")}
    assert_error(http.post("/files", files=files, data={"purpose": "assistants"}), 413)
    small = {"file": ("ok.bin", b"x" * (SMALL_BODY + 1), "application/octet-stream")}  # over the JSON cap: fine
    assert http.post("/files", files=small, data={"purpose": "assistants"}).status_code == 200


def test_file_upload_mistakes(http: httpx.Client) -> None:
    files = {"file": ("a.txt", b"a", "text/plain")}
    assert_error(http.post("/files", files=files, data={"purpose": "fun"}), 400, param="purpose")
    assert_error(http.post("/files", files=files), 400, param="purpose", code="missing_required_parameter")
    assert_error(http.post("/files", data={"purpose": "assistants"}), 400, param="file")
    assert_error(http.post("/files", content=b"{}", headers={"content-type": "application/json"}), 400)


def test_missing_things_are_404(http: httpx.Client) -> None:
    assert_error(http.get("/files/file-nope"), 404, code="file_not_found")
    assert_error(http.get("/files/file-nope/content"), 404)
    assert_error(http.delete("/files/file-nope"), 404)
    assert_error(http.get("/conversations/conv_nope"), 404)
    assert_error(http.get("/nowhere"), 404, code="unknown_url")


def test_wrong_method_is_405(http: httpx.Client) -> None:
    assert_error(http.get("/chat/completions"), 405)


def test_bad_query_parameters(http: httpx.Client) -> None:
    assert_error(http.get("/files", params={"limit": "many"}), 400, param="limit")
    assert_error(http.get("/files", params={"order": "sideways"}), 400, param="order")


@pytest.mark.parametrize(
    "body",
    [
        {"items": "hi"},
        {"items": [{"role": "robot", "content": "x"}]},
        {"items": [{"type": "function_call", "name": "f"}]},
        {"metadata": {"a": 1}},
        {"extra": True},
    ],
)
def test_bad_conversation_bodies(http: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(http.post("/conversations", json=body), 400)


def test_missing_invalid_and_revoked_keys(server: RunningServer, module_store: Store) -> None:
    key, secret = module_store.create_key("short-lived")
    for headers in ({}, {"Authorization": "Bearer rx-wrong"}, {"Authorization": "Basic abc"}):
        response = httpx.post(server.v1 + "/chat/completions", json=GOOD, headers=headers)
        assert_error(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    good = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(server.v1 + "/models", headers=good).status_code == 200
    module_store.revoke_key(key.id)
    assert_error(httpx.get(server.v1 + "/models", headers=good), 401, code="invalid_api_key")


def test_health_and_openapi_need_no_key(server: RunningServer) -> None:
    assert httpx.get(server.url + "/health").json()["status"] == "ok"
    spec = httpx.get(server.url + "/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/models", "/v1/files", "/v1/files/{file_id}/content"} <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_no_auth_mode_binds_only_to_loopback(tmp_db: str) -> None:
    for host in ("0.0.0.0", "192.168.1.2", "example.com"):
        with pytest.raises(ServerConfigError):
            ServerSettings(host=host, no_auth=True).check()
    ServerSettings(host="localhost", no_auth=True).check()
    ServerSettings(host="0.0.0.0", no_auth=False).check()


def test_no_auth_mode_serves_without_a_key(tmp_db: str) -> None:
    from rixin.store import open_store

    store = open_store(tmp_db)
    try:
        with serve_in_thread(ServerSettings(no_auth=True), model=FakeModel(), store=store) as running:
            response = httpx.post(running.v1 + "/chat/completions", json=GOOD)
            assert response.status_code == 200
            assert store.get_run("local", response.json()["id"]) is not None
    finally:
        store.close()


def test_tools_may_carry_mcp_annotations_and_bad_ones_are_refused(http: httpx.Client) -> None:
    from rixin.server.chat_prepare import _tools
    from rixin.server.chat_schema import ChatCompletionRequest

    reading = {**tool({"type": "object"}), "annotations": {"readOnlyHint": True, "title": "Weather"}}
    assert post_chat(http, {**GOOD, "tools": [reading]}).status_code == 200
    request = ChatCompletionRequest.model_validate({**GOOD, "tools": [reading, tool({"type": "object"}, "act")]})
    assert [t.read_only for t in _tools(request)] == [True, False]
    bad = {**tool({"type": "object"}), "annotations": {"readOnlyHint": "yes"}}
    assert_error(post_chat(http, {**GOOD, "tools": [bad]}), 400)
