"""Run a test MCP server over stdio, or over streamable HTTP with `--http PORT`."""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer


def serve(server: MCPServer) -> None:
    if "--http" in sys.argv:
        port = int(sys.argv[sys.argv.index("--http") + 1])
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
