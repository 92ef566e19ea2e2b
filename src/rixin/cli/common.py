"""Helpers shared by the commands: loading tools from the command line's files, describing calls."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from rixin.models import ChatModel
from rixin.tools import Tool, execute_call, load_tools_file, tools_from_module
from rixin.types import ChatResult, Message, ToolCall


def tools_from_args(args: argparse.Namespace) -> list[Tool]:
    tools: list[Tool] = []
    if getattr(args, "tools", None):
        tools += load_tools_file(args.tools)
    if getattr(args, "tools_module", None):
        tools += tools_from_module(args.tools_module)
    return tools


def describe_call(call: ToolCall) -> str:
    try:
        arguments = json.dumps(call.parsed_arguments(), ensure_ascii=False)
    except ValueError:
        arguments = call.function.arguments
    return f"{call.function.name}({arguments})"


@dataclass(frozen=True)
class Step:
    """One thing that happened while answering: the model's turn, or one executed call and its result."""

    kind: Literal["answer", "calls", "result", "error", "limit"]
    result: ChatResult | None = None
    call: ToolCall | None = None
    reply: Message | None = None


def tool_rounds(
    model: ChatModel, history: list[Message], tools: list[Tool], *, run: bool = True, max_rounds: int = 5
) -> Iterator[Step]:
    """Ask, run the calls (when `run` and the tool has a function), feed results back, until an answer.

    Appends every message to `history`; yields steps for the caller to show (no printing here)."""
    for _ in range(max_rounds):
        result = model.chat(history, tools=tools)
        if result.error:
            yield Step("error", result)
            return
        history.append(result.message)
        calls = result.message.tool_calls or []
        yield Step("calls" if calls else "answer", result)
        if not calls:
            return
        runnable = [t for t in tools if t.function is not None]
        for call in calls:
            reply = execute_call(runnable, call) if run and runnable else None
            if reply is not None:
                history.append(reply)
            yield Step("result", result, call, reply)
        if not (run and runnable):
            return
    yield Step("limit")
