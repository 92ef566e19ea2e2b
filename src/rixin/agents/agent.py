"""What an agent is: instructions, tools, plugins and limits. Defined in Python or loaded from YAML (`load_agent`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from rixin.plugins import McpStartError, unique_tools
from rixin.tools import Tool
from rixin.types import ToolChoice

if TYPE_CHECKING:
    from rixin.models import ChatModel
    from rixin.plugins import McpServer
    from rixin.tools.code_interpreter import CodeInterpreter


@dataclass
class Agent:
    """What an agent is: instructions, tools and limits. The model is given at run time (or by `model` spec)."""

    name: str = "agent"
    instructions: str = ""
    tools: list[Tool] = field(default_factory=list)
    model: str | None = None
    max_turns: int = 8
    max_tool_calls: int = 24
    time_budget_s: float | None = None
    max_tokens: int = 1024
    parallel_tool_calls: bool = True
    first_tool_choice: ToolChoice = "auto"
    """Tool choice of a run's first turn; later turns use "auto". "required" when the task must start with a
    call (a request to change work already done, which small models otherwise answer by claiming it is done)."""
    self_correct: bool = True
    """Failed calls come back with a hint to fix them, the next turn samples a little (`retry_temperature`)
    instead of decoding greedily, and an exact repeat of a failed call is drawn once more (hotter, another
    seed) and, if it comes again, refused rather than run again."""
    forced_retries: int = 2
    """With `self_correct`: after a turn in which a call ran and failed, the next turn must make a call (at most
    this many times per run). Told how to fix a call, small models otherwise explain the error to the user and
    stop (the 0.5B did so after 6 of 8 failed calls on the execution suite)."""
    retry_temperature: float = 0.7
    temperature: float = 0.0
    """Sampling temperature of ordinary turns (greedy by default)."""
    seed: int | None = None
    """Seed of the sampling after a failure (None: a fresh one each time); greedy turns do not use it."""
    max_repeated_failures: int = 2
    """Refused repeats of failed calls tolerated before the run stops."""
    code_blocks_as_calls: bool = True
    """When the agent has the code interpreter and the model answers with a fenced Python block instead of a
    call, run the block as a call: small models often "show" code they mean to run."""
    description: str = ""
    """What the agent does, for a caller that uses it as a tool (`as_tool`)."""
    mcp_servers: list[McpServer] = field(default_factory=list)
    """Started by the run that needs them (or by `open_plugins`); one that cannot start is reported, not fatal."""
    approval: set[str] = field(default_factory=set)
    """Names of tools whose calls wait for a person's approval (as do tools made with `needs_approval`)."""
    approval_timeout_s: float | None = None
    """Undecided approvals are denied after this long (None: wait as long as it takes)."""
    max_result_chars: int = 20_000
    code_interpreter: CodeInterpreter | None = None
    """The session behind the `code_interpreter` tool, when the agent has one (files are uploaded into it)."""
    closers: list[Callable[[], None]] = field(default_factory=list)
    """Further resources to release in `close()`."""

    def open_plugins(self) -> list[str]:
        """Start the MCP servers not yet running, in parallel. Returns one line per server that could not start
        (its tools are left out) and per tool a server offered that cannot be used."""
        waiting = [server for server in self.mcp_servers if not server.connected]

        def start(server: McpServer) -> str | None:
            try:
                server.connect()
            except McpStartError as error:
                return f"{error}; the run goes on without its tools"
            return None

        with ThreadPoolExecutor(max_workers=max(1, min(8, len(waiting)))) as pool:
            failures = [line for line in pool.map(start, waiting) if line]
        return failures + [line for server in waiting for line in server.warnings]

    def all_tools(self) -> list[Tool]:
        """The agent's own tools, then those of its running MCP servers (clashing names get the server's prefix)."""
        tools = list(self.tools)
        for server in self.mcp_servers:
            if server.connected:
                tools += unique_tools(tools, server.tools, server.name)
        return tools

    def as_tool(
        self, *, name: str | None = None, description: str | None = None, model: ChatModel | str | None = None
    ) -> Tool:
        """This agent as a tool another agent can call with a task; see `rixin.agents.subagent`."""
        from rixin.agents.subagent import agent_tool

        return agent_tool(self, name=name, description=description, model=model)

    def close(self) -> None:
        """Stop the MCP servers and the code interpreter's session, release everything in `closers`."""
        for server in self.mcp_servers:
            server.close()
        if self.code_interpreter is not None:
            self.code_interpreter.close()
        for closer in self.closers:
            with contextlib.suppress(Exception):  # one resource that fails to close must not keep the others open
                closer()

    def __enter__(self) -> Agent:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
