"""`rixin run AGENT.yaml "task"`: run a YAML agent with live progress, ask for approvals, store the trace.

`--file F` (repeatable) puts files in the code interpreter's work folder (/mnt/data) when the agent has it;
otherwise the task lists their absolute paths, for the agent's own tools to read. `--json` prints one JSON
object (answer, steps, usage, seconds, run_id, trace) on stdout and nothing else there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from rixin.agents import Agent, AgentRun, PendingApproval, Step, load_agent, new_run_id, run_agent
from rixin.agents.steps import format_arguments
from rixin.agents.trace import save_trace, trace_of
from rixin.errors import RixinError
from rixin.types import Message, Usage

MAX_SHOWN = 1500


def run_run(args: argparse.Namespace) -> int:
    files = [Path(name) for name in args.file]
    for file in files:
        if not file.is_file():
            raise RixinError(f"no such file: {file}")
    # With --json, stdout carries the JSON alone; progress goes to stderr when someone is watching it.
    console = Console(stderr=args.json, highlight=False, quiet=args.json and not sys.stderr.isatty())
    prompt = Console(stderr=True, highlight=False)
    agent = load_agent(args.agent, unsafe_no_sandbox=args.unsafe_no_sandbox)
    with agent:
        if args.max_turns:
            agent.max_turns = args.max_turns
        from rixin.calling import open_model

        loading = time.perf_counter()
        model = open_model(args.model or agent.model)
        took = time.perf_counter() - loading
        console.print(f"[bold]{escape(agent.name)}[/] on {escape(model.name)} [dim](loaded in {took:.1f} s)[/]")
        task = with_files(agent, files, args.task)
        run_id = new_run_id()
        started_at, started = time.time(), time.perf_counter()
        usage, messages, steps = Usage(), list[Message](), list[Step]()

        def approve(entry: PendingApproval) -> bool:
            return True if args.yes else ask(prompt, entry)

        try:
            for step in run_agent(agent, model, task, history=messages, usage=usage, approver=approve, run_id=run_id):
                steps.append(step)
                show(console, step)
        except KeyboardInterrupt:  # the trace of an interrupted run is still worth keeping
            steps.append(Step("limit", steps[-1].turn if steps else 0, "interrupted by the user"))
            show(console, steps[-1])
        answer = steps[-1].text if steps and steps[-1].kind == "answer" else None
        run = AgentRun(answer, steps, messages, usage, time.perf_counter() - started)
    extra: dict[str, object] = {"files": [str(file.resolve()) for file in files]}
    trace = trace_of(
        run, run_id=run_id, agent=agent.name, model=model.name, task=args.task, started_at=started_at, **extra
    )
    path = None if args.no_trace else save_trace(trace)
    if args.json:
        print(json.dumps({"run_id": run_id, **run.to_dict(), "trace": str(path) if path else None}, ensure_ascii=False))
    else:
        tokens = run.usage.total_tokens
        console.print(
            f"[dim]{run.seconds:.1f} s, {tokens} tokens" + (f"; trace: rixin runs show {run_id}[/]" if path else "[/]")
        )
    if steps[-1].text == "interrupted by the user":
        return 130
    return 0 if answer is not None else 1


def with_files(agent: Agent, files: list[Path], task: str) -> str:
    """Give the agent the user's files: uploaded to /mnt/data when it has the code interpreter, else by path."""
    if not files:
        return task
    if agent.code_interpreter is not None:
        names = [agent.code_interpreter.upload(file) for file in files]
        return f"{task}\n\nFiles in /mnt/data: {', '.join(names)}"
    return f"{task}\n\nFiles given by the user: {', '.join(str(file.resolve()) for file in files)}"


def ask(console: Console, entry: PendingApproval) -> bool:
    """y/n on the terminal; no answer (end of input) denies."""
    call = f"{entry.call.name}({format_arguments(entry.call)})"
    console.print(f"[bold yellow]approve[/] {escape(call)}? {escape('[y/N]')} ", end="")
    line = sys.stdin.readline()
    return line.strip().lower() in ("y", "yes")


def show(console: Console, step: Step) -> None:
    if step.kind == "call" and step.call is not None:
        arguments = escape(_short(format_arguments(step.call)))
        where = f"[dim](turn {step.turn}, {step.seconds:.1f} s)[/]"
        console.print(f"[yellow]→ {escape(step.call.name)}[/]({arguments}) {where}")
    elif step.kind == "result":
        colour = "red" if step.is_error else "dim"
        console.print(f"[{colour}]← {escape(_short(step.text))}[/] [dim]({step.seconds:.1f} s)[/]")
    elif step.kind == "answer":
        console.print(f"[bold blue]answer>[/] {escape(step.text)}")
    elif step.kind == "approval":
        console.print(f"[magenta]? {escape(step.text)}[/]")
    elif step.kind == "notice":
        console.print(f"[yellow]! {escape(step.text)}[/]")
    elif step.kind == "review":
        console.print(f"[bold magenta]review>[/] {escape(step.text)}")
    else:
        console.print(f"[red]{step.kind}: {escape(step.text)}[/]")


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + " […]"
