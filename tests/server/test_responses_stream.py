"""`POST /v1/responses` with `stream: true`, in OpenAI's Responses event shape: read raw and through the official
SDK (whose `responses.stream` helper checks the events' order and identities); a scripted stand-in model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import ResponseFunctionToolCall

from rixin.server import ServerSettings
from rixin.store import Store

from .conftest import Keys
from .helpers import RunningServer, ScriptedModel, serve_in_thread

MODEL = "scripted-model"
CODE = {"type": "code_interpreter", "container": {"type": "auto"}}
WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
SCRIPTS: dict[str, tuple[str, dict[str, Any]]] = {
    "compute": ("code_interpreter", {"code": "print(6 * 7)"}),
    "weather": ("get_weather", {"city": "Paris"}),
}


@pytest.fixture(scope="module")
def server(module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    with serve_in_thread(ServerSettings(), model=ScriptedModel(scripts=SCRIPTS), store=module_store) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: RunningServer, keys: Keys) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key=keys.alice, max_retries=0, timeout=120)


def raw_events(server: RunningServer, keys: Keys, body: dict[str, Any]) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {keys.alice}"}
    with httpx.stream("POST", server.v1 + "/responses", json={**body, "stream": True}, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = []
    for block in text.strip().split("\n\n"):
        name, data = block.split("\n")
        event = json.loads(data.removeprefix("data: "))
        assert name == "event: " + event["type"]
        events.append(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def test_text_streams_as_deltas(server: RunningServer, keys: Keys, client: openai.OpenAI) -> None:
    events = raw_events(server, keys, {"model": MODEL, "input": "hello there"})
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 4,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == "Echo: hello there"
    final = events[-1]["response"]
    assert final["status"] == "completed" and final["output"] == [events[-2]["item"]]
    assert events[2]["item"]["id"] == final["output"][0]["id"] == events[4]["item_id"]
    assert client.responses.retrieve(final["id"]).output_text == "Echo: hello there"


def test_sdk_helper_rebuilds_a_code_interpreter_response(client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="please compute", tools=[CODE]) as stream:  # type: ignore[list-item]
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds.index("response.code_interpreter_call.interpreting") < kinds.index(
        "response.code_interpreter_call.completed"
    )
    assert kinds[-1] == "response.completed"
    run, answer = final.output
    assert run.type == "code_interpreter_call" and run.code == "print(6 * 7)"
    assert [getattr(o, "logs", None) for o in run.outputs or []] == ["42\n"]
    assert answer.type == "message" and final.output_text == "Result: stdout: 42"
    stored = client.responses.retrieve(final.id)
    assert [getattr(o, "id", None) for o in stored.output] == [run.id, answer.id]
    assert stored.output_text == final.output_text


def test_function_calls_stream_their_arguments(client: openai.OpenAI) -> None:
    events: list[Any] = list(client.responses.create(model=MODEL, input="weather?", tools=[WEATHER], stream=True))  # type: ignore[list-item]
    kinds = [event.type for event in events]
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"city": "Paris"}
    final = events[-1]
    assert final.type == "response.completed"
    (call,) = final.response.output
    assert isinstance(call, ResponseFunctionToolCall) and call.name == "get_weather"


def test_streamed_turns_join_the_conversation(client: openai.OpenAI) -> None:
    conversation = client.conversations.create()
    events: list[Any] = list(
        client.responses.create(model=MODEL, input="first", conversation=conversation.id, stream=True)
    )
    assert events[-1].type == "response.completed"
    items = list(client.conversations.items.list(conversation.id, order="asc"))
    assert [getattr(item, "role", None) for item in items] == ["user", "assistant"]


def test_bad_streamed_requests_get_their_4xx(server: RunningServer, keys: Keys) -> None:
    headers = {"Authorization": f"Bearer {keys.alice}"}
    for body, status in (
        ({"model": "gpt-4o", "input": "hi"}, 404),
        ({"model": MODEL, "input": "hi", "tool_choice": {"type": "code_interpreter"}}, 400),
        ({"model": MODEL, "input": "hi", "stream": "yes"}, 400),
    ):
        response = httpx.post(server.v1 + "/responses", json={"stream": True, **body}, headers=headers)
        assert response.status_code == status, response.text
        assert response.json()["error"]["message"]
