"""An MCP server whose `crash` tool kills the process in the middle of the call."""

from __future__ import annotations

import os
import sys

from _serve import serve
from mcp.server.mcpserver import MCPServer

server = MCPServer("crashing", log_level="WARNING")


@server.tool()
def ping() -> str:
    """Answer pong."""
    return "pong"


@server.tool()
def crash() -> str:
    """Crash the server."""
    print("crashing on purpose", file=sys.stderr, flush=True)
    os._exit(3)


if __name__ == "__main__":
    serve(server)
