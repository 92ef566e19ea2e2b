"""Errors of plugins. Each message names the server or service, so a person knows which plugin failed."""

from __future__ import annotations

from rixin.errors import RixinError


class PluginError(RixinError):
    """A plugin (MCP server, OpenAPI service) that could not be used."""


class McpStartError(PluginError):
    """An MCP server that could not be started or connected; the message names its command or URL."""


class McpCallError(PluginError):
    """A call that an MCP server did not complete: it crashed, hung past its timeout, or was never running."""


class McpToolError(PluginError):
    """A call the MCP server ran and reported as failed (`isError`): the tool's own error text."""


class OpenApiError(PluginError):
    """An OpenAPI document that cannot be read or turned into tools."""


class HttpCallError(PluginError):
    """An OpenAPI operation that answered with an HTTP error or could not be reached."""
