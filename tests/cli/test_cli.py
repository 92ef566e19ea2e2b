"""The `rixin` command line, run as a real subprocess (the console script installed next to the interpreter)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rixin import __version__
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.models import EMBEDDED_MODELS

SCRIPT = Path(sys.executable).with_name("rixin")
RIXIN = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "rixin.cli.main"]
DEMO_TOOLS = str(Path(__file__).resolve().parents[2] / "src" / "rixin" / "cli" / "demo_tools.py")
# A wide terminal so that rich does not wrap lines; no colours.
ENV = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", "PYTHONUNBUFFERED": "1"}


def one_core() -> None:
    """Run the CLI on one core. It loads models with one llama.cpp thread per core, and on the 2-core test machine
    those threads stall each other as soon as another process keeps a core busy (measured with a busy loop
    running: one `rixin ask` took 83 s on both cores, 7 s on one)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def rixin(*args: str, stdin: str | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RIXIN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
        preexec_fn=one_core,
    )


def assert_clean_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for fragment in fragments:
        assert fragment in done.stderr, (fragment, done.stderr)


@pytest.fixture(scope="module")
def tools_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tools") / "tools.json"
    path.write_text(json.dumps({"tools": [get_weather.to_openai(), convert_currency.to_openai()]}))
    return str(path)


# -- without a model ------------------------------------------------------------------------------------------
def test_version() -> None:
    done = rixin("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"rixin {__version__}"


def test_help_lists_the_commands() -> None:
    done = rixin("--help")
    assert done.returncode == 0
    for command in ("ask", "chat", "models", "demo"):
        assert command in done.stdout


def test_usage_errors_come_from_argparse() -> None:
    done = rixin("ask")  # no prompt
    assert done.returncode == 2
    assert "usage:" in done.stderr and "prompt" in done.stderr
    assert "Traceback" not in done.stderr


def test_models_list() -> None:
    done = rixin("models", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Embedded models")
    for model in EMBEDDED_MODELS.values():
        assert any(line.startswith(f"  {model.name}: {model.description} [") for line in lines), model.name
    # the tests run on assembled models
    assert f"  smollm2-135m: {EMBEDDED_MODELS['smollm2-135m'].description} [ready]" in lines
    assert rixin("models").stdout == done.stdout  # "list" is the default action


def test_models_list_in_an_empty_home(tmp_path: Path) -> None:
    done = subprocess.run(
        [*RIXIN, "models", "list"], capture_output=True, text=True, env={**ENV, "RIXIN_HOME": str(tmp_path)}, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.count("[not assembled]") == len(EMBEDDED_MODELS)


def test_ask_with_an_unknown_model() -> None:
    done = rixin("ask", "hi", "--model", "no-such-model")
    assert_clean_error(done, "unknown model 'no-such-model'", *EMBEDDED_MODELS)
    assert done.stdout == ""


def test_ask_with_a_missing_gguf(tmp_path: Path) -> None:
    done = rixin("ask", "hi", "--model", str(tmp_path / "absent.gguf"))
    assert_clean_error(done, "GGUF file not found", "absent.gguf")


def test_tools_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"tools": [')
    done = rixin("ask", "hi", "--tools", str(path))
    assert_clean_error(done, str(path), "not valid JSON", "line 1")


def test_tools_file_with_an_invalid_schema(tmp_path: Path) -> None:
    path = tmp_path / "bad-schema.json"
    bad = {
        "type": "function",
        "function": {"name": "bad", "parameters": {"type": "object", "properties": {"a": {"type": "strin"}}}},
    }
    path.write_text(json.dumps([bad]))
    done = rixin("ask", "hi", "--tools", str(path))
    assert_clean_error(done, str(path), "tool 'bad'", "'strin'")


def test_tools_file_that_does_not_exist(tmp_path: Path) -> None:
    done = rixin("ask", "hi", "--tools", str(tmp_path / "nowhere.json"))
    assert_clean_error(done, "nowhere.json", "cannot read tools file")


def test_tools_module_that_fails_to_import(tmp_path: Path) -> None:
    module = tmp_path / "explodes.py"
    module.write_text("raise RuntimeError('boom at import')\n")
    done = rixin("chat", "--tools-module", str(module), stdin="")
    assert_clean_error(done, str(module), "cannot import", "boom at import")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_ask_with_an_unreachable_named_endpoint() -> None:
    done = rixin("ask", "hi", "--model", f"http://127.0.0.1:{closed_port()}/v1#some-model", timeout=60)
    assert_clean_error(done, "127.0.0.1")


def test_ask_with_an_unreachable_endpoint() -> None:
    done = rixin("ask", "hi", "--model", f"http://127.0.0.1:{closed_port()}/v1", timeout=60)
    assert_clean_error(done, "cannot list models at http://127.0.0.1")


# -- with the embedded models ---------------------------------------------------------------------------------
@pytest.mark.model
def test_ask_json_with_a_tools_file(tools_file: str) -> None:
    done = rixin("ask", "What's the weather in Paris?", "--tools", tools_file, "--json")
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)  # exactly one JSON document
    assert message["role"] == "assistant"
    assert "content" in message
    assert message["tool_calls"]
    for call in message["tool_calls"]:
        assert call["id"].startswith("call_")
        assert call["type"] == "function"
        assert call["function"]["name"] == "get_weather"
        assert isinstance(call["function"]["arguments"], str)
        arguments = json.loads(call["function"]["arguments"])
        assert arguments["city"] == "Paris"
        assert get_weather.validate_arguments(arguments) == []


@pytest.mark.model
def test_ask_plain_text() -> None:
    done = rixin("ask", "Say hello to me.", "--model", "smollm2-135m", "--max-tokens", "32")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "tool call:" not in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.model
def test_ask_required_always_calls(tools_file: str) -> None:
    done = rixin("ask", "Good morning!", "--tools", tools_file, "--tool-choice", "required", "--model", "smollm2-135m")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines and all(line.startswith("tool call: ") for line in lines), done.stdout
    name, _, arguments = lines[0].removeprefix("tool call: ").partition("(")
    tool = {"get_weather": get_weather, "convert_currency": convert_currency}[name]
    assert tool.validate_arguments(json.loads(arguments.removesuffix(")"))) == []


@pytest.mark.model
def test_ask_required_without_tools() -> None:
    done = rixin("ask", "hi", "--tool-choice", "required", "--model", "smollm2-135m")
    assert_clean_error(done, "at least one tool")


@pytest.mark.model
def test_ask_named_tool_choice_that_is_not_offered(tools_file: str) -> None:
    done = rixin("ask", "hi", "--tools", tools_file, "--tool-choice", "search", "--model", "smollm2-135m")
    assert_clean_error(done, "'search'", "get_weather, convert_currency")


@pytest.mark.model
def test_chat_runs_the_tools_and_answers() -> None:
    done = rixin("chat", "--tools-module", DEMO_TOOLS, stdin="What's the weather in Paris?\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "tools: get_weather, convert_currency" in out
    assert '→ get_weather({"city": "Paris"' in out
    assert '← {"city": "Paris", "temperature": 8, "unit": "celsius", "sky": "light rain"}' in out
    assert "rixin> " in out
    answer = out.split("rixin> ", 1)[1].split("\n", 1)[0]
    assert "8" in answer
    assert out.rstrip().endswith("bye")
    assert "Traceback" not in done.stderr


def one_core_with_ctrl_c() -> None:
    """`one_core`, and Ctrl-C as a terminal delivers it. A child inherits an ignored SIGINT, and Python then
    keeps ignoring it: pytest started in the background by a non-interactive shell (`nohup pytest … &`) has
    SIGINT ignored (/proc/PID/status SigIgn), and `rixin chat` then waited for input through the signal."""
    one_core()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.model
def test_chat_leaves_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [*RIXIN, "chat", "--model", "smollm2-135m"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**ENV, "PYTHONFAULTHANDLER": "1"},  # a SIGABRT prints every thread's stack (see below)
        preexec_fn=one_core_with_ctrl_c,
    )
    assert process.stdout is not None and process.stderr is not None
    seen = bytearray()

    def read() -> None:
        assert process.stdout is not None
        while chunk := os.read(process.stdout.fileno(), 1024):
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while b"you>" not in seen:  # the model is loaded and the prompt waits for input
            assert process.poll() is None, (bytes(seen), process.stderr.read())
            assert time.monotonic() < deadline, bytes(seen)
            time.sleep(0.1)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # show where it hangs
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=30)
            raise AssertionError(f"no exit 30 s after Ctrl-C; its threads: {process.stderr.read().decode()}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=10)
    stderr = process.stderr.read().decode()
    if process.stdin:
        process.stdin.close()
    out = seen.decode()
    assert returncode == 0, (out, stderr)
    assert "Traceback" not in stderr + out
    assert out.rstrip().endswith("bye")
