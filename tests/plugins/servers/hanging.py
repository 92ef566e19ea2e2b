"""An MCP server whose `hang` tool never returns (other calls still work)."""

from __future__ import annotations

import time

from _serve import serve
from mcp.server.mcpserver import MCPServer

server = MCPServer("hanging", log_level="WARNING")


@server.tool()
def hang(seconds: float = 3600) -> str:
    """Sleep for a long time."""
    time.sleep(seconds)
    return "woke up"


@server.tool()
def ping() -> str:
    """Answer pong."""
    return "pong"


if __name__ == "__main__":
    serve(server)
