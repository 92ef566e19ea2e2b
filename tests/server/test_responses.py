"""`/v1/responses` with the official SDK: function tools come back as `function_call` items, their outputs go in
with `previous_response_id`; the built-in code interpreter runs on the server, in the sandbox; everything is
stored (responses, conversation items, run events) and private to its key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import openai
import pytest

from rixin.server import ServerSettings
from rixin.server.code_runs import CodeSession
from rixin.store import Store

from .conftest import Keys
from .helpers import RunningServer, serve_in_thread

if TYPE_CHECKING:
    from rixin.calling import Engine

SMOL, QWEN = "smollm2-135m", "qwen2.5-coder-0.5b"
WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Tokyo"]}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


@pytest.fixture(scope="module")
def server(smol_engine: Engine, module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    with serve_in_thread(ServerSettings(), model=smol_engine, store=module_store) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: RunningServer, keys: Keys) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key=keys.alice, max_retries=0, timeout=120)


@pytest.mark.model
def test_function_call_then_output_with_previous_response_id(
    client: openai.OpenAI, server: RunningServer, module_store: Store, keys: Keys
) -> None:
    first = client.responses.create(
        model=SMOL,
        instructions="You are a weather assistant.",
        input="What is the weather in Paris?",
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        max_output_tokens=48,
    )
    assert first.status == "completed" and first.id.startswith("resp_")
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments)["city"] in ("Paris", "Tokyo")

    second = client.responses.create(
        model=SMOL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature_c": 21}'}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="none",
        max_output_tokens=12,
    )
    assert second.previous_response_id == first.id
    assert second.output and second.output[-1].type == "message" and second.output_text
    assert second.status in ("completed", "incomplete")

    again = client.responses.retrieve(second.id)
    assert again.id == second.id and again.output_text == second.output_text
    items = httpx.get(
        f"{server.v1}/responses/{second.id}/input_items", headers={"Authorization": f"Bearer {keys.alice}"}
    ).json()["data"]
    assert [i["type"] for i in items] == ["message", "function_call", "function_call_output"]
    bob = openai.OpenAI(base_url=server.v1, api_key=keys.bob, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        bob.responses.retrieve(second.id)
    with pytest.raises(openai.NotFoundError):
        bob.responses.create(model=SMOL, previous_response_id=first.id, input="hi", max_output_tokens=4)

    run = next(r for r in module_store.list_runs(keys.alice_id) if r.response_id == first.id)
    events = [e.type for e in module_store.list_events(keys.alice_id, run.id)]
    assert events == ["run.started", "response.output_item.done", "run.completed"]

    client.responses.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(second.id)


@pytest.mark.model
def test_conversation_collects_the_turns(client: openai.OpenAI) -> None:
    conversation = client.conversations.create(metadata={"topic": "greeting"})
    response = client.responses.create(
        model=SMOL, conversation=conversation.id, input="Say hello.", max_output_tokens=6
    )
    assert response.conversation is not None and response.conversation.id == conversation.id
    items = list(client.conversations.items.list(conversation.id, order="asc"))
    assert [getattr(i, "role", None) for i in items] == ["user", "assistant"]


@pytest.mark.model
def test_code_interpreter_runs_on_the_server(qwen_engine: Engine, tmp_db: str) -> None:
    from rixin.store import open_store

    store = open_store(tmp_db)
    try:
        with serve_in_thread(ServerSettings(no_auth=True), model=qwen_engine, store=store) as server:
            client = openai.OpenAI(base_url=server.v1, api_key="local", max_retries=0, timeout=300)
            response = client.responses.create(
                model=QWEN,
                input="Use Python to compute 12345 * 6789 and print the result.",
                tools=[{"type": "code_interpreter", "container": {"type": "auto"}}],
                tool_choice={"type": "code_interpreter"},
                max_output_tokens=96,
                max_tool_calls=2,
            )
            runs = [item for item in response.output if item.type == "code_interpreter_call"]
            assert runs, response.output
            first = runs[0]
            assert first.code and first.container_id and first.container_id.startswith("cntr_")
            logs = " ".join(getattr(o, "logs", "") for o in first.outputs or [])
            assert "83810205" in logs, (first.code, logs)
    finally:
        store.close()


def test_code_session_files_images_and_outputs(module_store: Store, keys: Keys) -> None:
    """The server's code runs, without a model: the key's files are in /mnt/data, images and written files are
    kept as that key's files, and what the model reads back is separate from what the client sees."""
    data = module_store.add_file(keys.alice_id, "numbers.csv", "assistants", b"a,b\n1,2\n3,4\n")
    session = CodeSession(ServerSettings(), module_store, keys.alice_id, [data.id])
    try:
        item, text = session.run(
            "import pandas as pd, matplotlib.pyplot as plt\n"
            "df = pd.read_csv('/mnt/data/numbers.csv')\n"
            "print(int(df['b'].sum()))\n"
            "df.to_csv('/mnt/data/doubled.csv')\n"
            "plt.plot(df['a'], df['b']); plt.show()\n"
        )
        assert item["type"] == "code_interpreter_call" and item["status"] == "completed"
        logs = item["outputs"][0]
        assert logs["type"] == "logs" and "6" in logs["logs"]
        images = [o for o in item["outputs"] if o["type"] == "image"]
        assert images and images[0]["url"].startswith("data:image/png;base64,")
        assert module_store.read_file(keys.alice_id, images[0]["file_id"])[:4] == b"\x89PNG"  # type: ignore[index]
        (written,) = item["files"]
        assert written["filename"] == "doubled.csv"
        assert module_store.read_file(keys.alice_id, written["file_id"]).startswith(b",a,b")  # type: ignore[union-attr]
        assert "6" in text and item["rixin_output_text"] == text
        failed, failed_text = session.run("1 / 0")
        assert failed["status"] == "failed" and "ZeroDivisionError" in failed["outputs"][0]["logs"]
        assert "ZeroDivisionError" in failed_text
    finally:
        session.close()


def test_function_tools_may_say_they_only_read(module_store: Store) -> None:
    from rixin.server.responses import _tools
    from rixin.server.responses_schema import ResponseRequest

    reading = {"type": "function", "name": "look", "annotations": {"readOnlyHint": True}}
    request = ResponseRequest.model_validate(
        {"model": SMOL, "input": "hi", "tools": [reading, {"type": "function", "name": "act"}]}
    )
    tools, _ = _tools(request, module_store, "alice")
    assert [(t.name, t.read_only) for t in tools] == [("look", True), ("act", False)]


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"input": "hi", "previous_response_id": "resp_x", "conversation": "conv_x"}, 400, "conversation"),
        ({"input": "hi", "previous_response_id": "resp_missing"}, 404, "previous_response_id"),
        ({"input": "hi", "conversation": "conv_missing"}, 404, "conversation"),
        ({"input": "hi", "tool_choice": {"type": "code_interpreter"}}, 400, "tool_choice"),
        ({"input": "hi", "tools": [{"type": "function", "name": "bad name"}]}, 400, "tools"),
        ({"input": "hi", "tools": [{"type": "web_search"}]}, 400, "tools[0]"),
        ({"input": "hi", "tools": [{"type": "function", "name": "f", "annotations": {"readOnlyHint": 1}}]}, 400, None),
        ({"input": 5}, 400, "input"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}, 400, None),
        ({"input": "hi", "max_output_tokens": 0}, 400, "max_output_tokens"),
        ({"input": "hi", "model": "gpt-4o"}, 404, "model"),
        ({"input": "hi", "surprise": 1}, 400, "surprise"),
        (
            {"input": "hi", "tools": [{"type": "code_interpreter", "container": {"type": "auto", "file_ids": ["f"]}}]},
            404,
            None,
        ),
    ],
)
def test_bad_response_requests(
    server: RunningServer, keys: Keys, body: dict[str, Any], status: int, param: Any
) -> None:
    response = httpx.post(
        server.v1 + "/responses",
        json={"model": SMOL, **body},
        headers={"Authorization": f"Bearer {keys.alice}"},
        timeout=30,
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if param is not None:
        assert error["param"] == param, error
