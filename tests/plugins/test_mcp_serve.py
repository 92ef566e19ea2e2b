"""`rixin mcp-serve`: the sandboxed code interpreter as an MCP server, used through rixin's own MCP client."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from rixin.plugins import McpServer, McpServerSpec, mcp_server_for
from rixin.tools import tool

from .mcp_processes import free_port, wait_for_port

SERVE = [sys.executable, "-m", "rixin.cli.main", "mcp-serve"]


@pytest.fixture(scope="module")
def stdio_server() -> Iterator[McpServer]:
    server = McpServer(McpServerSpec(name="rixin", command=SERVE, timeout_s=120, startup_timeout_s=60))
    server.connect()
    yield server
    server.close()


def test_the_code_interpreter_is_offered_with_its_schema(stdio_server: McpServer) -> None:
    [offered] = stdio_server.tools
    assert offered.name == "code_interpreter" and "stateful Jupyter session" in offered.description
    assert offered.parameters["required"] == ["code"]


def test_code_runs_in_one_stateful_sandboxed_session(stdio_server: McpServer) -> None:
    run = stdio_server.tools[0]
    assert run.invoke({"code": "x = 6 * 7\nprint(x)"}) == "stdout:\n42"
    assert run.invoke({"code": "print(x + 1)"}) == "stdout:\n43"
    failed = run.invoke({"code": "1 / 0"})
    assert "ZeroDivisionError" in failed
    # Sandboxed: no network at all.
    probe = (
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), 2)\n    print('online')\n"
        "except OSError:\n    print('offline')"
    )
    assert run.invoke({"code": probe}) == "stdout:\noffline"


def test_over_streamable_http() -> None:
    port = free_port()
    process = subprocess.Popen([*SERVE, "--http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = McpServer(McpServerSpec(name="rixin-http", url=f"http://127.0.0.1:{port}/mcp", timeout_s=120))
    try:
        wait_for_port(port, process, timeout_s=60)
        server.connect()
        assert server.tools[0].invoke({"code": "print('over http')"}) == "stdout:\nover http"
    finally:
        server.close()
        process.terminate()
        process.wait(timeout=30)


def test_any_rixin_tools_can_be_served_and_their_errors_are_is_error_results() -> None:
    import anyio
    from mcp import Client

    @tool
    def halve(n: int) -> float:
        """Halve a number.

        Args:
            n: the number
        """
        if n < 0:
            raise ValueError("negative")
        return n / 2

    @tool(read_only=True)
    def double(n: int) -> int:
        """Double a number."""
        return 2 * n

    async def use() -> tuple[list[str], list[bool], str, bool, str]:
        async with Client(mcp_server_for([halve, double])) as client:
            listing = await client.list_tools()
            ok = await client.call_tool("halve", {"n": 3})
            bad = await client.call_tool("halve", {"n": -1})
            hints = [bool(t.annotations and t.annotations.read_only_hint) for t in listing.tools]
            return [t.name for t in listing.tools], hints, ok.content[0].text, bad.is_error, bad.content[0].text  # type: ignore[union-attr]

    names, read_only, ok, is_error, bad = anyio.run(use)
    assert names == ["halve", "double"] and read_only == [False, True]
    assert ok == "1.5" and is_error and bad == "ValueError: negative"
