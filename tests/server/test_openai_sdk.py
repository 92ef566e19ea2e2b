"""The official `openai` SDK as the client of a real uvicorn server over the embedded SmolLM2-135M (one thread).

Calls are generated under the tools' schemas, so even this small model gives calls the SDK parses; structured
output is generated under the JSON schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import httpx
import openai
import pytest
from pydantic import BaseModel

from rixin.server import ServerSettings
from rixin.store import Store

from .conftest import Keys
from .helpers import RunningServer, serve_in_thread

if TYPE_CHECKING:
    from rixin.calling import Engine

pytestmark = pytest.mark.model

MODEL = "smollm2-135m"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "Tokyo", "Berlin"]},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def server(smol_engine: Engine, module_store: Store, keys: Keys) -> Iterator[RunningServer]:
    with serve_in_thread(ServerSettings(), model=smol_engine, store=module_store) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: RunningServer, keys: Keys) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key=keys.alice, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def bob(server: RunningServer, keys: Keys) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key=keys.bob, max_retries=0, timeout=120)


def test_models_lists_the_served_model(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_unknown_model_is_404_model_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=ASK, max_tokens=4)  # type: ignore[arg-type]
    assert caught.value.code == "model_not_found"


def test_chat_with_tools_returns_parsed_tool_calls(client: openai.OpenAI, module_store: Store, keys: Keys) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        max_tokens=48,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert calls and calls[0].type == "function" and calls[0].id.startswith("call_")
    assert calls[0].function.name == "get_weather"
    arguments = json.loads(calls[0].function.arguments)
    assert arguments["city"] in ("Paris", "Tokyo", "Berlin")
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    run = module_store.get_run(keys.alice_id, completion.id)
    assert run is not None and run.status == "completed"


def test_named_tool_choice_and_no_parallel(client: openai.OpenAI) -> None:
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    completion = client.chat.completions.create(
        model=MODEL,
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER, other],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        parallel_tool_calls=False,
        max_tokens=32,
    )
    calls = completion.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_time"]


def test_tool_choice_none_answers_in_text(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="none",
        max_tokens=8,
    )
    choice = completion.choices[0]
    assert choice.message.tool_calls is None and choice.message.content
    assert choice.finish_reason in ("stop", "length")


def test_streaming_tool_calls_accumulate_with_the_sdk(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        max_tokens=48,
        stream=True,
        stream_options={"include_usage": True},
    )
    calls: dict[int, dict[str, str]] = {}
    finish, usage, chunks = None, None, 0
    for chunk in stream:
        chunks += 1
        assert chunk.object == "chat.completion.chunk" and chunk.model == MODEL
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                slot = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                slot["id"] += delta.id or ""
                if delta.function is not None:
                    slot["name"] += delta.function.name or ""
                    slot["arguments"] += delta.function.arguments or ""
    assert finish == "tool_calls" and chunks > 3
    assert calls[0]["id"].startswith("call_") and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"])["city"] in ("Paris", "Tokyo", "Berlin")
    assert usage is not None and usage.total_tokens > 0


def test_streaming_with_the_sdk_helper(client: openai.OpenAI) -> None:
    """The SDK's own accumulator (`chat.completions.stream`) rebuilds the same calls from our deltas."""
    with client.chat.completions.stream(
        model=MODEL,
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        max_tokens=48,
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert calls and calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments)["city"] in ("Paris", "Tokyo", "Berlin")


def test_streaming_text_ends_with_done(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello."}], max_tokens=6, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text


class Forecast(BaseModel):
    city: Literal["Paris", "Tokyo"]
    sunny: bool
    rain: Literal["none", "light", "heavy"]


def test_json_schema_structured_output(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Forecast for Paris as JSON."}],
        response_format=Forecast,
        max_tokens=64,
    )
    message = completion.choices[0].message
    assert message.content is not None
    parsed = Forecast.model_validate(json.loads(message.content))
    assert message.parsed == parsed


def test_json_object_output(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Give a JSON object with a key 'a'."}],
        response_format={"type": "json_object"},
        max_tokens=48,
    )
    content = completion.choices[0].message.content or ""
    if completion.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(content), dict)
    else:
        assert content.lstrip().startswith("{")


def test_max_tokens_and_stop(client: openai.OpenAI) -> None:
    short = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Count from 1 to 50."}], max_completion_tokens=3
    )
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens <= 3
    stopped = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count from 1 to 20, separated by commas."}],
        max_tokens=40,
        stop=[","],
        temperature=0,
    )
    assert "," not in (stopped.choices[0].message.content or "")


def test_files_upload_list_content_delete(client: openai.OpenAI, bob: openai.OpenAI) -> None:
    data = "city,population\n上海,24870895\n".encode()
    uploaded = client.files.create(file=("cities.csv", data, "text/csv"), purpose="assistants")
    assert uploaded.id.startswith("file-") and uploaded.bytes == len(data) and uploaded.filename == "cities.csv"
    assert uploaded.id in [f.id for f in client.files.list()]
    assert client.files.retrieve(uploaded.id).filename == "cities.csv"
    assert client.files.content(uploaded.id).content == data
    # Another key sees nothing of it.
    assert uploaded.id not in [f.id for f in bob.files.list()]
    with pytest.raises(openai.NotFoundError):
        bob.files.retrieve(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        bob.files.content(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        bob.files.delete(uploaded.id)
    deleted = client.files.delete(uploaded.id)
    assert deleted.deleted and deleted.id == uploaded.id
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_missing_or_wrong_key_is_401(server: RunningServer) -> None:
    for key in ("", "rx-not-a-real-key-at-all"):
        nobody = openai.OpenAI(base_url=server.v1, api_key=key or "x", max_retries=0)
        if not key:
            nobody = nobody.with_options(default_headers={"Authorization": ""})
        with pytest.raises(openai.AuthenticationError):
            nobody.models.list()
        with pytest.raises(openai.AuthenticationError):
            nobody.chat.completions.create(model=MODEL, messages=ASK, max_tokens=4)  # type: ignore[arg-type]


def test_conversations_are_per_key(server: RunningServer, keys: Keys) -> None:
    import httpx

    alice = {"Authorization": f"Bearer {keys.alice}"}
    made = httpx.post(
        server.v1 + "/conversations",
        json={"items": [{"role": "user", "content": "你好"}], "metadata": {"topic": "t"}},
        headers=alice,
    )
    assert made.status_code == 200, made.text
    conversation = made.json()
    assert conversation["object"] == "conversation" and conversation["metadata"] == {"topic": "t"}
    items = httpx.get(f"{server.v1}/conversations/{conversation['id']}/items", headers=alice).json()
    assert items["data"][0]["content"] == [{"type": "input_text", "text": "你好"}]
    bob = {"Authorization": f"Bearer {keys.bob}"}
    assert httpx.get(f"{server.v1}/conversations/{conversation['id']}", headers=bob).status_code == 404
    assert httpx.get(f"{server.v1}/conversations/{conversation['id']}/items", headers=bob).status_code == 404


def _raw(server: RunningServer, keys: Keys, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {keys.alice}"}
    return httpx.post(server.v1 + "/chat/completions", json={"model": MODEL, **body}, headers=headers, timeout=120)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        (
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "f",
                            "parameters": {
                                "type": "object",
                                "properties": {"a": {"type": "string", "pattern": "(?<=x)a"}},
                                "required": ["a"],
                            },
                        },
                    }
                ],
                "tool_choice": "required",
            },
            "tools",
            "invalid_tool_schema",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "n", "schema": {"type": "integer", "minimum": 5, "maximum": 3}},
                }
            },
            "response_format",
            "invalid_schema",
        ),
        ({"messages": [{"role": "user", "content": "word " * 20000}]}, "messages", "context_length_exceeded"),
    ],
)
def test_requests_the_engine_rejects_are_4xx(
    server: RunningServer, keys: Keys, extra: dict[str, Any], param: str, code: str, stream: bool
) -> None:
    """Found only when generating (a schema the grammar compiler refuses, a prompt past the context): still a 400
    with the parameter named, streamed or not (a stream sends its status line only after the first event)."""
    response = _raw(server, keys, {"messages": ASK, "max_tokens": 8, "stream": stream, **extra})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["code"] == code
