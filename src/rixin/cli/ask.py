"""`rixin ask`: one request, one answer."""

from __future__ import annotations

import argparse
import sys

from rixin.calling import open_model
from rixin.cli.common import describe_call, tools_from_args
from rixin.cli.main import print_json
from rixin.types import GenerationOptions, Message


def run_ask(args: argparse.Namespace) -> int:
    tools = tools_from_args(args)  # before loading the model: a bad tools file fails fast
    model = open_model(args.model)
    messages = [Message(role="system", content=args.system)] if args.system else []
    messages.append(Message(role="user", content=args.prompt))
    result = model.chat(
        messages,
        tools=tools,
        tool_choice=args.tool_choice,
        parallel_tool_calls=not args.no_parallel,
        options=GenerationOptions(max_tokens=args.max_tokens, temperature=args.temperature),
    )
    if result.error:
        if args.json:
            print_json({"error": {"type": "tool_call_error", "message": result.error}, "raw_output": result.raw_output})
        else:
            print(f"error: {result.error}", file=sys.stderr)
        return 1
    if args.json:
        print_json(result.to_openai_message())
        return 0
    if result.message.content:
        print(result.message.content)
    for call in result.message.tool_calls or []:
        print(f"tool call: {describe_call(call)}")
    return 0
