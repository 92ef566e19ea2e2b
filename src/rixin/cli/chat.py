"""`rixin chat`: an interactive session that runs the module's @tool functions and feeds results back."""

from __future__ import annotations

import argparse

from rich.console import Console

from rixin.calling import open_model
from rixin.cli.common import describe_call, tool_rounds, tools_from_args
from rixin.types import Message


def run_chat(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    tools = tools_from_args(args)
    model = open_model(args.model)
    names = ", ".join(t.name for t in tools) or "none"
    console.print(f"[bold]rixin chat[/] — model {model.name}; tools: {names}. Ctrl-D or Ctrl-C to leave.")
    history: list[Message] = [Message(role="system", content=args.system)] if args.system else []
    try:
        while True:
            try:
                text = console.input("[bold green]you>[/] ").strip()
            except EOFError:
                break
            if not text:
                continue
            history.append(Message(role="user", content=text))
            for step in tool_rounds(model, history, tools, max_rounds=args.max_rounds):
                if step.kind == "error" and step.result:
                    console.print(f"[red]error:[/] {step.result.error}")
                elif step.kind == "answer" and step.result:
                    console.print(f"[bold blue]rixin>[/] {step.result.message.content or ''}")
                elif step.kind == "result" and step.call:
                    console.print(f"  [yellow]→ {describe_call(step.call)}[/]")
                    if step.reply:
                        console.print(f"  [dim]← {step.reply.content}[/]")
                elif step.kind == "limit":
                    console.print(f"[red]stopped after {args.max_rounds} tool rounds without an answer[/]")
    except KeyboardInterrupt:
        pass
    console.print("bye")
    return 0
