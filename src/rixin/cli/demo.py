"""`rixin demo`: what the engine does on the embedded model, step by step, with timings.

Until the flagship (the province population map, code-interpreter issue) exists, this is a short
tool-calling demonstration: a single call, parallel calls, and a request that needs no tool.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from rixin.calling import open_model
from rixin.cli.common import describe_call, tool_rounds
from rixin.cli.demo_tools import convert_currency, get_weather
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
        for step in tool_rounds(model, history, tools, max_rounds=3):
            seconds = step.result.timings.get("total_s", 0.0) if step.result else 0.0
            if step.kind == "error" and step.result:
                console.print(f"  [red]error:[/] {step.result.error}")
            elif step.kind == "answer" and step.result:
                console.print(f"[bold blue]rixin>[/] {step.result.message.content}  [dim]({seconds:.1f} s)[/]\n")
            elif step.kind == "calls" and step.result:
                count = len(step.result.message.tool_calls or [])
                console.print(f"  [dim]model chose {count} call(s) in {seconds:.1f} s[/]")
            elif step.kind == "result" and step.call and step.reply:
                console.print(f"  [yellow]→ {describe_call(step.call)}[/]\n  [dim]← {step.reply.content}[/]")
            elif step.kind == "limit":
                console.print("  [red]no answer after 3 tool rounds[/]\n")
    console.print(f"[bold]done[/] in {time.perf_counter() - started:.1f} s")
    return 0
