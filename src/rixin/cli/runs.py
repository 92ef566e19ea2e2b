"""`rixin runs list` and `rixin runs show ID`: the stored traces of `rixin run`."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape

from rixin.agents.trace import list_traces, load_trace, runs_dir


def run_runs(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    if args.runs_command == "list":
        rows = list_traces(limit=args.limit)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return 0
        if not rows:
            console.print(f"no stored runs in {runs_dir()}")
            return 0
        for row in rows:  # one plain line per run: readable at any terminal width, easy to grep
            task = str(row["task"]).replace("\n", " ")
            task = task if len(task) <= 60 else task[:59] + "…"
            numbers = f"{row['seconds']:>7.1f} s {row['total_tokens']:>7} tok"
            line = f"{row['id']}  {row['agent']:<14} {row['status']:<7} {numbers}"
            console.print(f"{escape(line)}  {escape(task)}", soft_wrap=True)
        return 0
    trace = load_trace(args.id)
    if args.json:
        print(json.dumps(trace, ensure_ascii=False, indent=2))
        return 0
    usage = trace.get("usage") or {}
    who = f"agent {escape(str(trace.get('agent')))} on {escape(str(trace.get('model')))}"
    console.print(f"[bold]run {trace['id']}[/] — {who}, {trace.get('started_at', '')}")
    console.print(f"[bold green]task>[/] {escape(str(trace.get('task', '')))}")
    for step in trace.get("steps", []):
        console.print(_step_line(step))
    answer = trace.get("answer")
    console.print(
        f"[bold blue]answer>[/] {escape(answer)}"
        if answer is not None
        else f"[red]no answer ({trace.get('status')})[/]"
    )
    console.print(
        f"[dim]{trace.get('seconds', 0):.1f} s; tokens: {usage.get('prompt_tokens', 0)} prompt + "
        f"{usage.get('completion_tokens', 0)} completion; {len(trace.get('turns', []))} turn(s)[/]"
    )
    return 0


def _step_line(step: dict[str, object]) -> str:
    kind, turn, seconds = step.get("kind"), step.get("turn"), step.get("seconds", 0)
    call = step.get("call")
    text = str(step.get("text", ""))
    text = text if len(text) < 600 else text[:600] + " […]"
    head = f"[dim]{turn:>3} {seconds:>6.2f}s[/] " if isinstance(seconds, int | float) else ""
    if kind == "call" and isinstance(call, dict):
        arguments = json.dumps(call.get("arguments"), ensure_ascii=False)
        return f"{head}[yellow]→ {escape(str(call.get('name')))}[/]({escape(arguments[:600])})"
    if kind == "result":
        colour = "red" if step.get("is_error") else "dim"
        return f"{head}[{colour}]← {escape(text)}[/]"
    if kind == "answer":
        return f"{head}[blue]answer[/]"
    return f"{head}[magenta]{kind}[/]: {escape(text)}"
