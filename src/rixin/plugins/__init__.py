"""Plugins: tools from elsewhere as ordinary rixin Tools — MCP servers (stdio, streamable HTTP) and OpenAPI 3
services — and rixin's own tools served over MCP.

The MCP SDK and httpx are imported on first use (`McpServer`, `openapi_tools`, ...), so importing the agents
costs nothing for runs without plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rixin.plugins.errors import (
    HttpCallError,
    McpCallError,
    McpStartError,
    McpToolError,
    OpenApiError,
    PluginError,
)
from rixin.plugins.mcp_spec import McpServerSpec
from rixin.plugins.schemas import safe_name, tool_from_schema, unique_tools

if TYPE_CHECKING:
    from rixin.plugins.mcp_client import McpServer
    from rixin.plugins.mcp_server import mcp_server_for
    from rixin.plugins.openapi import openapi_tools

__all__ = [
    "HttpCallError",
    "McpCallError",
    "McpServer",
    "McpServerSpec",
    "McpStartError",
    "McpToolError",
    "OpenApiError",
    "PluginError",
    "mcp_server_for",
    "openapi_tools",
    "safe_name",
    "tool_from_schema",
    "unique_tools",
]

_LAZY = {
    "McpServer": "rixin.plugins.mcp_client",
    "mcp_server_for": "rixin.plugins.mcp_server",
    "openapi_tools": "rixin.plugins.openapi",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
