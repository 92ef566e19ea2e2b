"""MCP client: the tools of one MCP server (stdio or streamable HTTP) as ordinary rixin Tools.

Each server's session lives on the shared background event loop (`event_loop.py`); its tools are sync
functions that wait for their call with a timeout. A server that fails to start, crashes, hangs or errors
fails only its own calls, with a message naming the server — as data for the model, never an exception
that ends a run.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import tempfile
import threading
import weakref
from dataclasses import replace
from typing import Any, TextIO, cast

import mcp_types
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client

from rixin.plugins.errors import McpCallError, McpStartError, McpToolError
from rixin.plugins.mcp_spec import McpServerSpec
from rixin.plugins.schemas import tool_from_schema
from rixin.tools import Tool

STDERR_TAIL_CHARS = 600
CLOSE_TIMEOUT_S = 10.0
"""The SDK closes a stdio server politely (stdin, then SIGTERM, then SIGKILL: about 4.5 s at most)."""


_open_servers: weakref.WeakSet[McpServer] = weakref.WeakSet()


class McpServer:
    """One MCP server: `connect()` starts it and lists its tools; `tools` call it; `close()` stops it."""

    def __init__(self, spec: McpServerSpec) -> None:
        self.spec = spec
        self.tools: list[Tool] = []
        self.warnings: list[str] = []
        """Tools the server offered that could not be used (bad name or schema), one line each."""
        self.failure: str | None = None
        """Why the server stopped answering (set once it crashed); its tools then fail at once."""
        self._client: Client | None = None
        self._stop: asyncio.Event | None = None
        self._keeper: concurrent.futures.Future[None] | None = None
        self._errlog: TextIO | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def connected(self) -> bool:
        """Running and answering (a server that crashed is not; `connect()` starts it again)."""
        return self._client is not None and self.failure is None

    def connect(self) -> list[Tool]:
        """Start (or reach) the server and list its tools. Raises McpStartError naming the command or URL."""
        with self._lock:
            if self.connected:
                return self.tools
            self._shutdown()  # what is left of a crashed session
            self.failure = None
            ready: concurrent.futures.Future[list[mcp_types.Tool]] = concurrent.futures.Future()
            if self.spec.command:
                # Kept open while the server runs (closed in close()), so no context manager.
                self._errlog = cast(TextIO, tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace"))  # noqa: SIM115
            from rixin.plugins.event_loop import submit

            self._keeper = submit(self._keep(ready))
            try:
                listing = ready.result(timeout=self.spec.startup_timeout_s + 5)
            except concurrent.futures.TimeoutError:
                self._abandon()
                raise McpStartError(
                    f"MCP server '{self.name}' ({self.spec.where()}) did not answer within "
                    f"{self.spec.startup_timeout_s:g} s{self._last_words()}"
                ) from None
            except BaseException as error:
                self._abandon()
                raise McpStartError(
                    f"MCP server '{self.name}' could not start ({self.spec.where()}): {_reason(error)}"
                    f"{self._last_words()}"
                ) from None
            self.tools, self.warnings = self._convert(listing)
            _open_servers.add(self)
            return self.tools

    async def _keep(self, ready: concurrent.futures.Future[list[mcp_types.Tool]]) -> None:
        """Hold the session open until `close()`: the SDK's context must be entered and left in one task."""
        try:
            async with Client(
                self._transport(), read_timeout_seconds=self.spec.startup_timeout_s, cache=None
            ) as client:
                listing = await _list_tools(client)
                self._stop = asyncio.Event()
                self._client = client
                ready.set_result(listing)
                await self._stop.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            elif self.failure is None and not isinstance(error, asyncio.CancelledError):
                self.failure = _reason(error)
            if isinstance(error, asyncio.CancelledError):
                raise
        finally:
            self._client = None

    def _transport(self) -> Any:
        if self.spec.url:
            return self.spec.url
        assert self.spec.command and self._errlog is not None
        program, *arguments = self.spec.command
        parameters = StdioServerParameters(command=program, args=arguments, env=self.spec.env, cwd=self.spec.cwd)
        # The server's own log goes to a file: it must not garble the user's terminal, and its tail explains a crash.
        return stdio_client(parameters, errlog=self._errlog)

    def _convert(self, listing: list[mcp_types.Tool]) -> tuple[list[Tool], list[str]]:
        tools: list[Tool] = []
        warnings: list[str] = []
        for spec in listing:
            try:
                made = tool_from_schema(spec.name, spec.description or spec.title or "", spec.input_schema)
                read_only = bool(spec.annotations and spec.annotations.read_only_hint)
            except Exception as error:
                warnings.append(f"MCP server '{self.name}': tool {spec.name!r} skipped: {error}")
                continue
            tools.append(_bind(replace(made, read_only=read_only), self, spec.name))
        return tools, warnings

    def call(self, tool_name: str, arguments: dict[str, Any]) -> str:
        """Call one tool and wait at most `timeout_s`. Raises McpCallError / McpToolError with a clear message."""
        client = self._client
        label = f"MCP server '{self.name}'"
        if client is None or self.failure:
            why = self.failure or "it is not connected"
            raise McpCallError(f"{label} is not available ({why}); its tools cannot be used in this run")
        from rixin.plugins.event_loop import submit

        timeout = self.spec.timeout_s
        future = submit(client.call_tool(tool_name, arguments, read_timeout_seconds=timeout))
        try:
            result = future.result(timeout=timeout + 2)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise McpCallError(f"{label} did not answer {tool_name!r} within {timeout:g} s") from None
        except MCPError as error:
            if "timed out" in str(error).lower():
                raise McpCallError(f"{label} did not answer {tool_name!r} within {timeout:g} s") from None
            if "connection closed" in str(error).lower():
                self.failure = f"the server stopped (connection closed){self._stderr_note()}"
                raise McpCallError(f"{label} crashed during {tool_name!r}: {self.failure}") from None
            raise McpCallError(f"{label} refused {tool_name!r}: {error}") from None
        except Exception as error:
            raise McpCallError(f"{label} failed during {tool_name!r}: {_reason(error)}") from None
        text = content_text(result.content, result.structured_content)
        if result.is_error:
            raise McpToolError(f"{label}, tool {tool_name!r}: {text}")
        return text

    def close(self) -> None:
        with self._lock:
            self._shutdown()

    def _shutdown(self) -> None:
        stop, keeper = self._stop, self._keeper
        self._stop = self._keeper = None
        self._client = None
        if stop is not None:
            from rixin.plugins.event_loop import call_soon

            call_soon(stop.set)
        if keeper is not None:
            try:
                keeper.result(timeout=CLOSE_TIMEOUT_S)
            except BaseException:  # already failed or cancelled: nothing left to stop
                keeper.cancel()
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None
        _open_servers.discard(self)

    def _abandon(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(BaseException):  # wait for the SDK to stop the process it may have started
                self._keeper.result(timeout=CLOSE_TIMEOUT_S)
            self._keeper = None

    def _last_words(self) -> str:
        """The stderr note of a server that failed to start; its log file is closed afterwards."""
        note = self._stderr_note()
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None
        return note

    def _stderr_note(self) -> str:
        if self._errlog is None or self._errlog.closed:
            return ""
        try:
            self._errlog.flush()
            self._errlog.seek(0)
            text = self._errlog.read().strip()
        except (OSError, ValueError):
            return ""
        if not text:
            return ""
        tail = text[-STDERR_TAIL_CHARS:]
        return f"; its stderr ends: {'…' if len(text) > len(tail) else ''}{tail}"

    def __repr__(self) -> str:
        return f"McpServer({self.name!r}, {self.spec.where()})"


def _bind(made: Tool, server: McpServer, remote_name: str) -> Tool:
    def call(**arguments: Any) -> str:
        return server.call(remote_name, arguments)

    return replace(made, function=call)


async def _list_tools(client: Client) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(100):  # a paginator that never ends must not hang the start
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def content_text(content: list[Any], structured: Any = None) -> str:
    """An MCP result as text for the model: text blocks as they are, other blocks described in one line."""
    parts: list[str] = []
    for block in content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            size = len(getattr(block, "data", ""))
            parts.append(f"[{kind}: {getattr(block, 'mime_type', '?')}, {size} base64 characters]")
        elif kind == "resource_link":
            parts.append(f"[resource: {block.uri}]")
        elif kind == "resource":
            inner = block.resource
            parts.append(getattr(inner, "text", None) or f"[resource: {inner.uri}]")
        else:
            parts.append(f"[{kind or type(block).__name__} content]")
    if not parts and structured is not None:
        import json

        return json.dumps(structured, ensure_ascii=False, default=str)
    return "\n".join(parts)


def _reason(error: BaseException) -> str:
    """The first real cause inside anyio's exception groups, as one readable line."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, FileNotFoundError):
        return f"program not found: {error.filename or error}"
    if isinstance(error, PermissionError):
        return f"program not executable: {error.filename or error}"
    if isinstance(error, MCPError) and "connection closed" in str(error).lower():
        return "the server exited before it answered"
    text = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {text}" if not isinstance(error, MCPError) else text


@atexit.register
def _close_all() -> None:
    for server in list(_open_servers):
        server.close()
