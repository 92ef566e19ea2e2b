"""`load_agent(path)`: a YAML agent file as an `Agent`, every problem reported with its line and field.

Paths inside the file (tool modules, OpenAPI files, sub-agents, MCP servers' working folder) are relative
to the file. MCP servers are not started here: the run starts them, and one that fails is reported there.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pydantic

from rixin.agents.agent import Agent
from rixin.agents.config import AgentConfig, CodeInterpreterConfig
from rixin.agents.yaml_source import AgentConfigError, field_name, line_of, load_yaml
from rixin.errors import RixinError
from rixin.tools import Tool, as_tools, tools_from_module
from rixin.tools.loading import import_source_file

BUILTIN_TOOLS = ("code_interpreter",)
_local = threading.local()  # per thread: the files being loaded, to refuse an agent that lists itself


def load_agent(path: str | Path, *, unsafe_no_sandbox: bool = False) -> Agent:
    """Read, validate and build the agent in `path`. Raises AgentConfigError naming the line and the field."""
    file = Path(path).resolve()
    label = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AgentConfigError(f"{label}: cannot read agent file: {error}") from None
    data, lines = load_yaml(text, label)
    if not isinstance(data, dict):
        raise AgentConfigError(f"{label}, line 1: an agent file must be a mapping of fields (name, instructions, …)")
    try:
        config = AgentConfig.model_validate(data)
    except pydantic.ValidationError as error:
        raise AgentConfigError(_problems(error, lines, label)) from None
    loading: list[Path] = _local.__dict__.setdefault("files", [])
    if file in loading:
        raise AgentConfigError(f"{label}: the agent uses itself as a tool (through {' → '.join(map(str, loading))})")
    loading.append(file)
    try:
        return _build(config, file.parent, lines, label, unsafe_no_sandbox)
    finally:
        loading.pop()


def _problems(error: pydantic.ValidationError, lines: dict[Any, int], label: str) -> str:
    out = []
    for problem in error.errors():
        location = [part for part in problem["loc"] if isinstance(part, str | int)]
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        elif problem["type"] == "missing":
            message = "missing required field"
        out.append(f"{label}, line {line_of(lines, location)}, field {field_name(location)}: {message}")
    return "\n".join(out)


def _build(config: AgentConfig, folder: Path, lines: dict[Any, int], label: str, unsafe: bool) -> Agent:
    agent = Agent(
        name=config.name,
        description=config.description,
        instructions=config.instructions,
        model=config.model,
        max_turns=config.max_turns,
        max_tool_calls=config.max_tool_calls,
        time_budget_s=config.time_budget_s,
        max_tokens=config.max_tokens,
        parallel_tool_calls=config.parallel_tool_calls,
        self_correct=config.self_correct,
        retry_temperature=config.retry_temperature,
        seed=config.seed,
        approval=set(config.approval),
        approval_timeout_s=config.approval_timeout_s,
    )

    def fail(where: Sequence[str | int], problem: str) -> AgentConfigError:
        return AgentConfigError(f"{label}, line {line_of(lines, where)}, field {field_name(where)}: {problem}")

    try:
        for index, entry in enumerate(config.tools):
            try:
                agent.tools += _resolve_tool(entry.strip(), folder, agent, config.code_interpreter, unsafe)
            except RixinError as error:
                raise fail(("tools", index), str(error)) from None
        for index, source in enumerate(config.openapi):
            from rixin.plugins.openapi import openapi_tools

            where = source.url or str(folder / str(source.path))
            try:
                found = openapi_tools(
                    where,
                    base_url=source.base_url,
                    timeout_s=source.timeout_s,
                    headers=source.headers,
                    include=source.include,
                )
            except RixinError as error:
                raise fail(("openapi", index), str(error)) from None
            agent.tools += found
        agent.tools = as_tools(agent.tools)  # one check for duplicate names across every source
    except RixinError as error:
        agent.close()
        if isinstance(error, AgentConfigError):
            raise
        raise fail(("tools",), str(error)) from None
    if config.mcp_servers:
        from rixin.plugins.mcp_client import McpServer

        for spec in config.mcp_servers:
            # A relative command path or working folder means: next to the agent's file.
            cwd = str((folder / spec.cwd).resolve()) if spec.cwd else str(folder)
            agent.mcp_servers.append(McpServer(spec.model_copy(update={"cwd": cwd})))
    return agent


def _resolve_tool(entry: str, folder: Path, agent: Agent, sandbox: CodeInterpreterConfig, unsafe: bool) -> list[Tool]:
    if entry in BUILTIN_TOOLS:
        return [_code_interpreter(agent, sandbox, unsafe)]
    if entry.endswith((".yaml", ".yml")):
        sub = load_agent(folder / entry, unsafe_no_sandbox=unsafe)
        agent.closers.append(sub.close)
        return [sub.as_tool()]
    source, _, attribute = entry.partition(":")
    if source.endswith(".py"):
        if not attribute:
            return tools_from_module(folder / source)
        module = _module_from_file(folder / source)
    elif attribute:
        try:
            module = importlib.import_module(source)
        except ImportError as error:
            raise RixinError(f"cannot import module {source!r}: {error}") from None
    else:
        known = ", ".join(BUILTIN_TOOLS)
        raise RixinError(
            f"unknown tool {entry!r}: expected a built-in tool ({known}), FILE.py:FUNCTION, FILE.py, "
            "package.module:FUNCTION or AGENT.yaml"
        )
    value = getattr(module, attribute, None)
    if value is None:
        raise RixinError(f"{source} has no {attribute!r}")
    if isinstance(value, Tool):
        return [value]
    if callable(value):
        return as_tools([value])
    raise RixinError(f"{source}:{attribute} is neither a function nor a Tool")


def _module_from_file(file: Path) -> Any:
    return import_source_file(file)


def _code_interpreter(agent: Agent, settings: CodeInterpreterConfig, unsafe: bool) -> Tool:
    from rixin.sandbox import Limits, Sandbox, open_sandbox
    from rixin.tools.code_interpreter import CodeInterpreter

    if agent.code_interpreter is None:

        def open_session() -> Sandbox:
            limits = Limits(timeout_s=settings.timeout_s, memory_mb=settings.memory_mb)
            kind = "gateway" if settings.gateway_url else "local"
            return open_sandbox(kind, limits=limits, gateway_url=settings.gateway_url, unsafe=unsafe)

        agent.code_interpreter = CodeInterpreter(open_session)
    return agent.code_interpreter.tool
