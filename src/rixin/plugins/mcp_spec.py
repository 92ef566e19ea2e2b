"""Where an MCP server is (a command or a URL) and its timeouts: plain, validated settings (no SDK import)."""

from __future__ import annotations

import shlex

from pydantic import BaseModel, ConfigDict, Field, model_validator


class McpServerSpec(BaseModel):
    """Where an MCP server is: `command` (argv, started as a process speaking stdio) or `url` (streamable HTTP)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    command: list[str] | None = Field(default=None, min_length=1)
    url: str | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    """Per-call timeout: a call without an answer by then fails (the server may go on; the run does)."""
    startup_timeout_s: float = Field(default=30.0, gt=0)
    env: dict[str, str] | None = None
    cwd: str | None = None

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSpec:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (a list: program and arguments) or 'url'")
        return self

    def where(self) -> str:
        """The command line or URL, for messages."""
        return f"command `{shlex.join(self.command)}`" if self.command else f"URL {self.url}"
