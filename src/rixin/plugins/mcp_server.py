"""rixin's own tools as an MCP server (stdio or streamable HTTP), built on the SDK's low-level `Server` so each
tool keeps its exact JSON Schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import anyio.to_thread
import mcp_types
from mcp.server import Server

from rixin import __version__
from rixin.tools import Tool, result_text


def mcp_server_for(tools: Sequence[Tool], name: str = "rixin") -> Server[Any]:
    """An MCP server offering `tools`; every call runs in a worker thread, and every failure is an `isError`
    result with the reason (the client's model can read it and correct the call)."""
    by_name = {t.name: t for t in tools}
    listing = [
        mcp_types.Tool(
            name=t.name,
            description=t.description or None,
            input_schema=t.parameters,
            annotations=mcp_types.ToolAnnotations(read_only_hint=True) if t.read_only else None,
        )
        for t in tools
    ]

    async def list_tools(_ctx: Any, _params: Any) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=listing)

    async def call_tool(_ctx: Any, params: mcp_types.CallToolRequestParams) -> mcp_types.CallToolResult:
        found = by_name.get(params.name)
        if found is None:
            return _result(f"unknown tool {params.name!r}; available: {', '.join(by_name)}", error=True)
        arguments = dict(params.arguments or {})
        try:
            # Tools are sync (a sandbox run can take a minute): a thread keeps the server answering meanwhile.
            value = await anyio.to_thread.run_sync(found.invoke, arguments)
        except Exception as error:
            return _result(f"{type(error).__name__}: {error}", error=True)
        return _result(result_text(value))

    return Server(name, version=__version__, on_list_tools=list_tools, on_call_tool=call_tool)


def _result(text: str, *, error: bool = False) -> mcp_types.CallToolResult:
    return mcp_types.CallToolResult(content=[mcp_types.TextContent(text=text)], is_error=error)


def serve_stdio(server: Server[Any]) -> None:
    """Serve one client on this process's stdin/stdout until it closes them."""
    from mcp.server.stdio import stdio_server

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)


def serve_http(server: Server[Any], host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp until interrupted."""
    import uvicorn

    app = server.streamable_http_app(host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")
