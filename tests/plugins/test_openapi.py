"""OpenAPI import against a real local HTTP service: a FastAPI app served by uvicorn in a thread, read through
its own /openapi.json."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import uvicorn
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

from rixin.agents import Agent, load_agent, run_agent_to_end
from rixin.plugins import HttpCallError, OpenApiError, openapi_tools
from rixin.tools import Tool
from rixin.types import ChatResult, Message, ToolCall

from .mcp_processes import free_port


class Owner(BaseModel):
    name: str
    email: str | None = None


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []
    owner: Owner | None = None


class Node(BaseModel):
    name: str
    children: list[Node] = []


def make_app() -> FastAPI:
    app = FastAPI(title="shop")
    items: dict[int, dict[str, Any]] = {1: {"name": "pen", "price": 1.5, "tags": [], "owner": None}}

    @app.get("/items/{item_id}", operation_id="get_item", summary="Get one item")
    def get_item(item_id: int, verbose: bool = False, x_token: Annotated[str | None, Header()] = None) -> Any:
        if item_id not in items:
            raise HTTPException(404, f"no item {item_id}")
        return {**items[item_id], "id": item_id, "verbose": verbose, "token": x_token}

    @app.post("/items", operation_id="create_item", status_code=201)
    def create_item(item: Item) -> Any:
        new_id = max(items) + 1
        items[new_id] = item.model_dump()
        return {"id": new_id, **items[new_id]}

    @app.get("/search", operation_id="search")
    def search(q: str, limit: int = 10) -> list[str]:
        return [item["name"] for item in items.values() if q in item["name"]][:limit]

    @app.delete("/items/{item_id}", operation_id="delete_item", status_code=204)
    def delete_item(item_id: int) -> None:
        items.pop(item_id, None)

    @app.post("/sum", operation_id="sum_numbers")
    def sum_numbers(numbers: list[int]) -> int:
        return sum(numbers)

    @app.post("/tree", operation_id="count_nodes")
    def count_nodes(node: Node) -> int:
        return 1 + sum(len(child.children) + 1 for child in node.children)

    @app.get("/slow", operation_id="slow")
    def slow() -> str:
        time.sleep(3)
        return "late"

    return app


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def tools(service: str) -> dict[str, Tool]:
    return {t.name: t for t in openapi_tools(f"{service}/openapi.json", timeout_s=1.0)}


def test_every_operation_is_a_tool_with_a_schema_from_its_parameters_and_body(tools: dict[str, Tool]) -> None:
    assert set(tools) == {"get_item", "create_item", "search", "delete_item", "sum_numbers", "count_nodes", "slow"}
    get_item = tools["get_item"].parameters
    assert get_item["required"] == ["item_id"] and get_item["additionalProperties"] is False
    assert get_item["properties"]["item_id"] == {"type": "integer"}
    assert get_item["properties"]["verbose"] == {"type": "boolean", "default": False}
    assert "x-token" in get_item["properties"]
    assert tools["get_item"].description == "Get one item"
    assert {name for name, t in tools.items() if t.read_only} == {"get_item", "search", "slow"}  # the GETs
    create = tools["create_item"].parameters  # an object body is flattened, its $refs inlined
    assert set(create["properties"]) == {"name", "price", "tags", "owner"} and create["required"] == ["name", "price"]
    assert "$ref" not in json.dumps(create) and "$defs" not in create
    assert tools["sum_numbers"].parameters["properties"]["body"]["type"] == "array"
    assert "recursive" in json.dumps(tools["count_nodes"].parameters)  # a recursive $ref is cut, not followed forever


def test_calls_reach_the_service(tools: dict[str, Tool]) -> None:
    item = tools["get_item"].invoke({"item_id": 1, "verbose": True, "x-token": "t0k"})
    assert item == {"name": "pen", "price": 1.5, "tags": [], "owner": None, "id": 1, "verbose": True, "token": "t0k"}
    created = tools["create_item"].invoke({"name": "ink", "price": 3, "owner": {"name": "Li"}})
    assert created["name"] == "ink" and created["owner"] == {"name": "Li", "email": None}
    assert tools["search"].invoke({"q": "in"}) == ["ink"]
    assert tools["sum_numbers"].invoke({"body": [1, 2, 3]}) == 6
    assert tools["delete_item"].invoke({"item_id": created["id"]}) == "HTTP 204 (no content)"


def test_http_errors_and_timeouts_are_errors_with_the_status_and_body(tools: dict[str, Tool]) -> None:
    with pytest.raises(HttpCallError, match=r'GET /items/99: HTTP 404 Not Found: \{"detail":"no item 99"\}'):
        tools["get_item"].invoke({"item_id": 99})
    raw = tools["search"].function
    assert raw is not None
    with pytest.raises(HttpCallError, match="GET /search: HTTP 422 Unprocessable"):  # past the schema, as a bad client
        raw(q="x", limit="many")
    with pytest.raises(HttpCallError, match=r"GET /slow: no answer within 1 s"):
        tools["slow"].invoke({})


def test_in_a_run_an_http_error_is_data_for_the_model(tools: dict[str, Tool]) -> None:
    turns = [
        Message(role="assistant", tool_calls=[ToolCall.make("get_item", {"item_id": 42})]),
        Message(role="assistant", content="There is no item 42."),
    ]

    class Scripted:
        name = "scripted"

        def chat(self, messages: Any, **_: Any) -> ChatResult:
            return ChatResult(message=turns.pop(0))

    run = run_agent_to_end(Agent(tools=list(tools.values())), Scripted(), "item 42?")
    assert run.steps[1].is_error and "HTTP 404" in run.steps[1].text and run.answer == "There is no item 42."


def test_documents_from_files_and_dicts_and_an_unreachable_service(service: str, tmp_path: Path) -> None:
    import httpx

    document = httpx.get(f"{service}/openapi.json").json()
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(OpenApiError, match="no base_url given"):
        openapi_tools(path)
    found = {t.name: t for t in openapi_tools(path, base_url=service, include=["search"])}
    assert list(found) == ["search"] and found["search"].invoke({"q": "pen"}) == ["pen"]
    dead = {t.name: t for t in openapi_tools(document, base_url="http://127.0.0.1:9")}
    with pytest.raises(HttpCallError, match="GET /search: ConnectError"):
        dead["search"].invoke({"q": "pen"})
    with pytest.raises(OpenApiError, match="not an OpenAPI 3 document"):
        openapi_tools({"swagger": "2.0"}, base_url=service)
    with pytest.raises(OpenApiError, match="cannot fetch"):
        openapi_tools("http://127.0.0.1:9/openapi.json", timeout_s=2)


def test_names_from_method_and_path_and_openapi_3_0_schemas() -> None:
    document = {
        "openapi": "3.0.3",
        "servers": [{"url": "http://api.example/v1"}],
        "components": {
            "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"$ref": "#/components/schemas/Count"}}},
            "schemas": {
                "Count": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "nullable": True, "example": 5}
            },
        },
        "paths": {
            "/users/{id}/posts": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                "get": {"parameters": [{"$ref": "#/components/parameters/Limit"}]},
                "post": {"requestBody": {"content": {"multipart/form-data": {}}}},
            }
        },
    }
    made = openapi_tools(document)
    assert [t.name for t in made] == ["get_users_id_posts"]  # the form-data operation is skipped
    schema = made[0].parameters
    assert schema["required"] == ["id"]
    assert schema["properties"]["limit"] == {"type": ["integer", "null"], "exclusiveMinimum": 0}


def test_a_yaml_agent_lists_openapi_services(service: str, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        f"name: shopper\nopenapi:\n  - url: {service}/openapi.json\n    include: [search, get_item]\n",
        encoding="utf-8",
    )
    assert sorted(t.name for t in load_agent(tmp_path / "a.yaml").tools) == ["get_item", "search"]
    (tmp_path / "b.yaml").write_text("name: b\nopenapi:\n  - path: missing.json\n    base_url: http://h\n", "utf-8")
    with pytest.raises(Exception, match=r"b.yaml, line 3, field openapi\[0\]: cannot read OpenAPI document"):
        load_agent(tmp_path / "b.yaml")
