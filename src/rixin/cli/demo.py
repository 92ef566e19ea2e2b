"""`rixin demo`: what the engine does on the embedded model, step by step, with timings.

Until the flagship (the province population map, code-interpreter issue) exists, this is a short
tool-calling demonstration: a single call, parallel calls, and a request that needs no tool.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from rixin.calling import open_model
from rixin.cli.common import describe_call
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.tools import execute_call
from rixin.types import Message

TASKS = [
    "What's the weather like in Paris right now?",
    "What is the weather in Beijing and in Tokyo?",
    "Write one sentence about why unit tests matter.",
    "How warm is it in London, in fahrenheit?",
]


def run_demo(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    started = time.perf_counter()
    model = open_model(args.model)
    tools = [get_weather, convert_currency]
    console.print(f"[bold]rixin demo[/] — model {model.name} (loaded in {time.perf_counter() - started:.1f} s)")
    console.print(f"tools: {', '.join(t.name for t in tools)}\n")
    for task in TASKS:
        console.print(f"[bold green]user>[/] {task}")
        history = [Message(role="user", content=task)]
        for _ in range(3):
            result = model.chat(history, tools=tools)
            seconds = result.timings.get("total_s", 0.0)
            if result.error:
                console.print(f"  [red]error:[/] {result.error}")
                break
            history.append(result.message)
            calls = result.message.tool_calls or []
            if not calls:
                console.print(f"[bold blue]rixin>[/] {result.message.content}  [dim]({seconds:.1f} s)[/]\n")
                break
            console.print(f"  [dim]model chose {len(calls)} call(s) in {seconds:.1f} s[/]")
            for call in calls:
                reply = execute_call(tools, call)
                console.print(f"  [yellow]→ {describe_call(call)}[/]\n  [dim]← {reply.content}[/]")
                history.append(reply)
    console.print(f"[bold]done[/] in {time.perf_counter() - started:.1f} s")
    return 0
