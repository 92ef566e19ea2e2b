"""Helpers shared by the commands: loading tools from the command line's files, describing calls."""

from __future__ import annotations

import argparse
import json

from rixin.tools import Tool, load_tools_file, tools_from_module
from rixin.types import ToolCall


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
