"""A seeded fuzz of every operation in the server's own OpenAPI spec: valid requests mutated at random (wrong
types, missing and unknown fields, odd values, deep nesting, non-JSON bodies, random paths and queries).
No case may get a 5xx. (test_schemathesis.py fuzzes the same spec with schemathesis.)"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from rixin.server import ServerSettings
from rixin.store import Store

from .conftest import Keys
from .helpers import FakeModel, RunningServer, serve_in_thread

SEED = 20240605
CASES_PER_BODY = 150
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}
VALID: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {
        "model": "fake-model",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "tools": [TOOL],
        "tool_choice": "auto",
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        "max_tokens": 8,
        "stop": ["\n"],
        "stream": False,
        "temperature": 0.5,
    },
    "/v1/responses": {
        "model": "fake-model",
        "input": [{"role": "user", "content": "hi"}],
        "instructions": "be brief",
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}],
        "max_output_tokens": 8,
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
    },
    "/v1/conversations": {"items": [{"role": "user", "content": "hi"}], "metadata": {"a": "b"}},
}
ODD: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    1e308,
    -0.0,
    "",
    "x" * 5000,
    "日新\u0000\ud7ff",
    [],
    [None],
    {},
    {"type": None},
    {"$ref": "#/nope"},
    [[[[[[[[[[[]]]]]]]]]]],
]


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """One random change somewhere in `value`."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        choice = rng.random()
        changed = dict(value)
        if choice < 0.15:
            del changed[key]
        elif choice < 0.25:
            changed[rng.choice(["extra", "type", "role", "name", "x-y", ""])] = rng.choice(ODD)
        else:
            changed[key] = mutate(value[key], rng, depth + 1)
        return changed
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        changed_list = list(value)
        if rng.random() < 0.2:
            changed_list.append(rng.choice(ODD))
        else:
            changed_list[index] = mutate(value[index], rng, depth + 1)
        return changed_list
    return rng.choice(ODD)


@pytest.fixture(scope="module")
def server(module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    settings = ServerSettings(max_body_bytes=256 * 1024)
    with serve_in_thread(settings, model=FakeModel(), store=module_store) as running:
        yield running


def test_spec_lists_the_operations(server: RunningServer) -> None:
    spec = httpx.get(server.url + "/openapi.json").json()
    assert set(VALID) <= set(spec["paths"])
    assert spec["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]


def test_fuzzed_requests_never_get_a_server_error(server: RunningServer, keys: Keys) -> None:
    rng = random.Random(SEED)
    spec = httpx.get(server.url + "/openapi.json").json()
    headers = {"Authorization": f"Bearer {keys.alice}"}
    failures: list[str] = []
    tried = 0
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        conversation = http.post("/v1/conversations", json={}).json()["id"]
        for path, valid in VALID.items():
            for _ in range(CASES_PER_BODY):
                body = mutate(valid, rng)
                if rng.random() < 0.3:
                    body = mutate(body, rng)
                content = json.dumps(body)
                if rng.random() < 0.05:
                    content = content[: rng.randrange(len(content) + 1)]  # truncated JSON
                response = http.post(path, content=content, headers={"content-type": "application/json"})
                tried += 1
                if response.status_code >= 500:
                    failures.append(f"POST {path} {content[:300]} -> {response.status_code} {response.text[:300]}")
        for path, operations in spec["paths"].items():
            for method in operations:
                for _ in range(12):
                    concrete = path
                    for name in ("file_id", "conversation_id", "response_id", "model"):
                        filler = rng.choice(["x", "file-0", conversation, "%00", "日新", "a" * 300, "..", " "])
                        concrete = concrete.replace("{" + name + "}", quote(filler, safe=""))
                    params = {rng.choice(["limit", "order", "after", "purpose", "x"]): str(rng.choice(ODD))}
                    kwargs: dict[str, Any] = {"params": params}
                    if method in ("post", "put", "patch"):
                        kwargs["content"] = rng.choice([b"", b"{}", b"[]", b"null", b"\xff\xfe", b'{"items": 5}'])
                        kwargs["headers"] = {"content-type": rng.choice(["application/json", "text/plain"])}
                    response = http.request(method.upper(), concrete, **kwargs)
                    tried += 1
                    if response.status_code >= 500:
                        failures.append(f"{method.upper()} {concrete} {params} -> {response.status_code}")
    print(f"fuzz: {tried} requests, {len(failures)} server errors")
    assert not failures, "\n".join(failures[:20])
    assert tried >= 3 * CASES_PER_BODY
