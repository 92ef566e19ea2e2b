"""`rixin demo`: the flagship task on the embedded model — the population map of China's provinces.

An agent with the sandboxed code interpreter gets the 2020 census table and an offline province map, writes
the analysis code itself, is shown its errors until the chart is drawn, and the PNG's path is printed.
`--runs N` repeats the task in fresh sessions and reports the success rate and times. `--tools` shows the
short tool-calling demonstration instead (single, parallel and no-tool requests).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.syntax import Syntax

from rixin.agents import Step
from rixin.calling import open_model
from rixin.cli.common import describe_call, tool_rounds
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.cli.parsers import FLAGSHIP_MODEL
from rixin.demo.flagship import TASK, run_flagship
from rixin.sandbox import Limits, Sandbox, open_sandbox
from rixin.types import Message

TOOL_TASKS = [
    "What's the weather like in Paris right now?",
    "What is the weather in Beijing and in Tokyo?",
    "Write one sentence about why unit tests matter.",
    "How warm is it in London, in fahrenheit?",
]


def run_demo(args: argparse.Namespace) -> int:
    if args.tools:
        return run_tools_demo(args)
    console = Console(highlight=False)
    started = time.perf_counter()
    model = open_model(args.model or FLAGSHIP_MODEL)
    console.print(f"[bold]rixin demo[/] — model {model.name} (loaded in {time.perf_counter() - started:.1f} s)")
    console.print(f"[bold green]task>[/] {TASK}\n")

    def open_session() -> Sandbox:
        return open_sandbox("local", limits=Limits(timeout_s=120), unsafe=args.unsafe_no_sandbox)

    outcomes = []
    for index in range(1, args.runs + 1):
        if args.runs > 1:
            console.rule(f"run {index} of {args.runs}")
        out_dir = Path(args.out) / (f"run-{index}" if args.runs > 1 else "")
        outcome = run_flagship(
            model, open_session, out_dir, max_turns=args.max_turns, on_step=lambda step: show_step(console, step)
        )
        outcomes.append(outcome)
        if outcome.image:
            console.print(
                f"[bold]chart:[/] {outcome.image.resolve()}  [dim]({outcome.seconds:.1f} s, "
                f"{outcome.code_runs} code run(s), {outcome.code_errors} failed)[/]"
            )
        else:
            console.print(f"[red]no chart[/] after {outcome.seconds:.1f} s ({outcome.code_runs} code run(s))")
    if args.runs > 1:
        made = [o for o in outcomes if o.ok]
        times = [o.seconds for o in outcomes]
        console.print(
            f"\n[bold]{len(made)}/{len(outcomes)} runs drew the chart[/]; "
            f"labelled: {sum(o.labelled for o in made)}; median time {statistics.median(times):.1f} s; "
            f"code runs per success: {statistics.median([o.code_runs for o in made]) if made else 0:g}"
        )
    return 0 if all(o.ok for o in outcomes) else 1


def show_step(console: Console, step: Step) -> None:
    if step.kind == "call" and step.call is not None:
        arguments = step.call.parsed_arguments() if step.call.function.arguments else {}
        code = arguments.get("code") if isinstance(arguments, dict) else None
        console.print(f"[yellow]→ {step.call.name}[/] [dim](turn {step.turn}, {step.seconds:.1f} s)[/]")
        if isinstance(code, str):
            console.print(Syntax(code, "python", theme="ansi_dark", word_wrap=True))
        else:
            console.print(f"  {describe_call(step.call)}")
    elif step.kind == "result":
        colour = "red" if step.is_error else "dim"
        text = step.text if len(step.text) < 1500 else step.text[:1500] + " […]"
        console.print(f"[{colour}]← {text}[/]", markup=True)
    elif step.kind == "answer":
        console.print(f"[bold blue]rixin>[/] {step.text}")
    elif step.kind == "review":
        console.print(f"[bold magenta]review>[/] {step.text}")
    else:
        console.print(f"[red]{step.kind}: {step.text}[/]")


def run_tools_demo(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    started = time.perf_counter()
    model = open_model(args.model)
    tools = [get_weather, convert_currency]
    console.print(f"[bold]rixin demo --tools[/] — model {model.name} (loaded in {time.perf_counter() - started:.1f} s)")
    console.print(f"tools: {', '.join(t.name for t in tools)}\n")
    for task in TOOL_TASKS:
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
