"""`EndpointModel` and the engine's endpoint path against a real OpenAI-compatible server: llama-cpp-python's
own (`python -m llama_cpp.server`), started once for this module on the embedded Qwen2.5-Coder-0.5B.

The server is started with a config file so that it serves the same GGUF under two names:
  - "qwen-fc": `chat_format: chatml-function-calling`, llama-cpp-python's function-calling handler, which
    returns structured `tool_calls` (and cannot do `tool_choice="required"`);
  - "qwen-native": no chat_format, so the GGUF's own (Qwen) template renders the tools and the model's calls come
    back as text in `content`, which the engine parses, validates and repairs.
The server swaps models when another name is asked for, so the tests are grouped by name.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rixin.calling import Engine, open_model
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.errors import ModelNotFoundError
from rixin.models import EndpointModel
from rixin.models.registry import assemble
from rixin.tools import Tool
from rixin.types import ChatResult, GenerationOptions, Message

pytestmark = pytest.mark.model

TOOLS: list[Tool] = [get_weather, convert_currency]
FC, NATIVE = "qwen-fc", "qwen-native"
SHORT = GenerationOptions(max_tokens=48)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (…/v1) of a running llama-cpp-python server; stopped after the module."""
    folder = tmp_path_factory.mktemp("llama-server")
    port = free_port()
    model = str(assemble("qwen2.5-coder-0.5b"))
    common = {"model": model, "n_ctx": 4096, "n_threads": 1, "n_threads_batch": 1, "verbose": False}
    config = {
        "host": "127.0.0.1",
        "port": port,
        "models": [
            {**common, "model_alias": FC, "chat_format": "chatml-function-calling"},
            {**common, "model_alias": NATIVE},
        ],
    }
    (folder / "config.json").write_text(json.dumps(config))
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--config_file", str(folder / "config.json")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{server_log(folder)}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within 180 s:\n{server_log(folder)}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def server_log(folder: Path) -> str:
    return (folder / "server.log").read_text(errors="replace")[-4000:]


def user(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def assert_valid_calls(result: ChatResult) -> None:
    assert result.error is None, result.error
    assert result.finish_reason == "tool_calls"
    assert result.message.tool_calls
    by_name = {t.name: t for t in TOOLS}
    for call in result.message.tool_calls:
        assert call.function.name in by_name
        assert by_name[call.function.name].validate_arguments(json.loads(call.function.arguments)) == []


def assert_calls_or_text(result: ChatResult) -> None:
    assert result.error is None, result.error
    if result.message.tool_calls:
        assert_valid_calls(result)
    else:
        assert isinstance(result.message.content, str)
        assert result.finish_reason in ("stop", "length")


# -- EndpointModel ------------------------------------------------------------------------------------------
def test_first_listed_model_when_none_is_named(server: str) -> None:
    assert EndpointModel(server).name == FC
    assert EndpointModel(server + "/").base_url == server
    assert EndpointModel(server, NATIVE).name == NATIVE
    engine = open_model(server)
    assert isinstance(engine.model, EndpointModel) and engine.name == FC


def test_plain_chat(server: str) -> None:
    model = EndpointModel(server, FC)
    result = model.chat(user("Say hello in one word."), options=GenerationOptions(max_tokens=16))
    assert result.message.role == "assistant"
    assert result.message.content and "hello" in result.message.content.lower()
    assert result.message.tool_calls is None
    assert result.finish_reason == "stop"
    assert result.model == FC
    assert result.raw_output == result.message.content
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.timings["total_s"] > 0


def test_streaming_pieces(server: str) -> None:
    model = EndpointModel(server, FC)
    pieces: list[str] = []
    result = model.chat(
        user("Count from 1 to 5, separated by commas."), options=GenerationOptions(max_tokens=32), on_text=pieces.append
    )
    assert len(pieces) > 1
    assert "".join(pieces) == result.message.content
    assert "1" in "".join(pieces) and "5" in "".join(pieces)


def test_max_tokens_is_reported_as_length(server: str) -> None:
    result = EndpointModel(server, FC).chat(
        user("Write a long story about a dragon."), options=GenerationOptions(max_tokens=3)
    )
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 3


# -- the engine over the endpoint: structured tool_calls ------------------------------------------------------
@pytest.fixture(scope="module")
def fc_engine(server: str) -> Engine:
    engine = open_model(f"{server}#{FC}")
    assert isinstance(engine.model, EndpointModel) and engine.name == FC
    return engine


def test_tools_request_gives_valid_calls_or_text(fc_engine: Engine) -> None:
    result = fc_engine.chat(user("What's the weather in Paris?"), tools=TOOLS, options=SHORT)
    assert_calls_or_text(result)
    assert result.attempts[0].stage == "call"


def test_named_tool_choice_through_the_endpoint(fc_engine: Engine) -> None:
    choice = {"type": "function", "function": {"name": "get_weather"}}
    result = fc_engine.chat(user("What's the weather in Paris?"), tools=TOOLS, tool_choice=choice, options=SHORT)
    assert_valid_calls(result)
    [call] = result.message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] == "Paris"


def test_tool_choice_none_through_the_endpoint(fc_engine: Engine) -> None:
    result = fc_engine.chat(user("What's the weather in Paris?"), tools=TOOLS, tool_choice="none", options=SHORT)
    assert result.error is None and not result.message.tool_calls
    assert result.message.content


def test_required_on_a_server_that_cannot_do_it_ends_cleanly(fc_engine: Engine) -> None:
    result = fc_engine.chat(user("What's the weather in Paris?"), tools=TOOLS, tool_choice="required", options=SHORT)
    assert result.error or result.message.tool_calls


# -- the engine over the endpoint: calls left in the text ------------------------------------------------------
@pytest.fixture(scope="module")
def native_engine(server: str) -> Engine:
    return open_model(f"{NATIVE}@{server}")


def test_calls_written_as_text_are_parsed_and_validated(native_engine: Engine) -> None:
    result = native_engine.chat(user("What's the weather in Paris?"), tools=TOOLS, options=SHORT)
    assert_valid_calls(result)
    assert [c.function.name for c in result.message.tool_calls or []] == ["get_weather"]
    assert result.message.content is None
    assert "get_weather" in result.raw_output  # the server returned the call as text


def test_required_through_the_endpoint(native_engine: Engine) -> None:
    result = native_engine.chat(user("Hello! How are you?"), tools=TOOLS, tool_choice="required", options=SHORT)
    if result.error is None:
        assert_valid_calls(result)
    else:
        assert result.finish_reason == "error"
        assert not result.message.tool_calls
        assert all(a.error for a in result.attempts)


# -- unreachable endpoints -------------------------------------------------------------------------------------
def test_unreachable_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelNotFoundError, match=r"cannot list models at http://127\.0\.0\.1"):
        EndpointModel(url, timeout=5)
    with pytest.raises(ModelNotFoundError):
        open_model(url)


def test_unreachable_named_endpoint() -> None:
    engine = open_model(f"http://127.0.0.1:{free_port()}/v1#some-model")
    with pytest.raises(ModelNotFoundError):
        engine.chat(user("hi"))
