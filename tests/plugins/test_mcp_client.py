"""The MCP client against real MCP servers started as processes, over stdio and streamable HTTP: tools listed
and called, and every way a server fails (error, crash, hang, no start) fails only its own calls."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from rixin.plugins import McpCallError, McpServer, McpServerSpec, McpStartError, McpToolError

from .mcp_processes import http_server, stdio_spec

TRANSPORTS = ["stdio", "http"]


@pytest.fixture
def servers() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def connect(stack: ExitStack, script: str, transport: str, **settings: Any) -> McpServer:
    if transport == "stdio":
        spec = stdio_spec(script, **settings)
    else:
        spec = McpServerSpec(name=script, url=stack.enter_context(http_server(script)), **settings)
    server = McpServer(spec)
    stack.callback(server.close)
    server.connect()
    return server


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_tools_are_listed_with_strict_schemas_and_called(servers: ExitStack, transport: str) -> None:
    server = connect(servers, "normal", transport)
    tools = {t.name: t for t in server.tools}
    assert set(tools) == {"add", "shout", "divide", "big"}
    assert tools["add"].parameters == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    assert tools["add"].description == "Add two integers."
    assert tools["add"].read_only and not tools["shout"].read_only  # the server's readOnlyHint
    assert tools["add"].invoke({"a": 2, "b": 3}) == "5"
    assert tools["shout"].invoke({"text": "hi"}) == "HI"
    with pytest.raises(McpToolError, match="cannot divide by zero"):
        tools["divide"].invoke({"a": 1, "b": 0})
    assert tools["divide"].invoke({"a": 1, "b": 4}) == "0.25"  # the server goes on after a tool error


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_crash_fails_only_that_servers_tools(servers: ExitStack, transport: str) -> None:
    crashing = connect(servers, "crashing", transport, timeout_s=10)
    normal = connect(servers, "normal", "stdio")
    tools = {t.name: t for t in crashing.tools}
    assert tools["ping"].invoke({}) == "pong"
    with pytest.raises(McpCallError, match="MCP server 'crashing'") as crashed:
        tools["crash"].invoke({})
    if transport == "stdio":  # its last words explain the crash
        assert "crashing on purpose" in str(crashed.value)
    started = time.monotonic()
    with pytest.raises(McpCallError, match="MCP server 'crashing'"):
        tools["ping"].invoke({})
    assert time.monotonic() - started < 5
    assert {t.name: t for t in normal.tools}["add"].invoke({"a": 1, "b": 1}) == "2"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_hanging_call_times_out_and_the_server_keeps_serving(servers: ExitStack, transport: str) -> None:
    server = connect(servers, "hanging", transport, timeout_s=1.5)
    tools = {t.name: t for t in server.tools}
    started = time.monotonic()
    with pytest.raises(McpCallError, match=r"MCP server 'hanging' did not answer 'hang' within 1.5 s"):
        tools["hang"].invoke({})
    assert time.monotonic() - started < 6
    assert tools["ping"].invoke({}) == "pong"


def test_a_crashed_server_starts_again_on_the_next_connect(servers: ExitStack) -> None:
    server = connect(servers, "crashing", "stdio", timeout_s=10)
    with pytest.raises(McpCallError):
        server.call("crash", {})
    assert not server.connected and server.failure is not None
    server.connect()  # what a new run does
    assert server.connected and server.call("ping", {}) == "pong"


def test_a_server_that_exits_at_start_is_a_clear_error_naming_the_command() -> None:
    server = McpServer(stdio_spec("exits_at_start"))
    with pytest.raises(McpStartError) as error:
        server.connect()
    message = str(error.value)
    assert "MCP server 'exits_at_start' could not start" in message
    assert "exits_at_start.py" in message and sys.executable in message
    assert "missing configuration file settings.toml" in message  # its stderr says why
    assert not server.connected and server.tools == []


def test_a_missing_program_and_an_unreachable_url_are_start_errors() -> None:
    with pytest.raises(McpStartError, match=r"command `no-such-mcp-server --flag`.*program not found"):
        McpServer(McpServerSpec(name="ghost", command=["no-such-mcp-server", "--flag"])).connect()
    with pytest.raises(McpStartError, match=r"URL http://127.0.0.1:9/mcp"):
        McpServer(McpServerSpec(name="nowhere", url="http://127.0.0.1:9/mcp", startup_timeout_s=5)).connect()


def test_a_server_that_never_answers_at_start_times_out() -> None:
    silent = McpServerSpec(
        name="silent", command=[sys.executable, "-c", "import time; time.sleep(60)"], startup_timeout_s=1
    )
    started = time.monotonic()
    with pytest.raises(McpStartError, match="MCP server 'silent'"):
        McpServer(silent).connect()
    assert time.monotonic() - started < 15


def test_calls_before_connect_and_after_close_fail_with_a_message() -> None:
    server = McpServer(stdio_spec("normal"))
    with pytest.raises(McpCallError, match="not connected"):
        server.call("add", {"a": 1, "b": 2})
    server.connect()
    add = server.tools[0]
    server.close()
    with pytest.raises(McpCallError, match="MCP server 'normal' is not available"):
        add.invoke({"a": 1, "b": 2})


def test_spec_needs_exactly_one_transport() -> None:
    with pytest.raises(ValueError, match="exactly one of 'command'"):
        McpServerSpec(name="x")
    with pytest.raises(ValueError, match="exactly one of 'command'"):
        McpServerSpec(name="x", command=["a"], url="http://h/mcp")
