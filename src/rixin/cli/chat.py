"""`rixin chat`: an interactive session that runs the module's @tool functions and feeds results back."""

from __future__ import annotations

import argparse

from rich.console import Console

from rixin.calling import open_model
from rixin.cli.common import describe_call, tools_from_args
from rixin.tools import execute_call
from rixin.types import Message


def run_chat(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    tools = tools_from_args(args)
    runnable = [t for t in tools if t.function is not None]
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
            for _ in range(args.max_rounds):
                result = model.chat(history, tools=tools)
                if result.error:
                    console.print(f"[red]error:[/] {result.error}")
                    break
                history.append(result.message)
                calls = result.message.tool_calls or []
                if not calls:
                    console.print(f"[bold blue]rixin>[/] {result.message.content or ''}")
                    break
                for call in calls:
                    console.print(f"  [yellow]→ {describe_call(call)}[/]")
                    if not runnable:
                        continue
                    reply = execute_call(runnable, call)
                    console.print(f"  [dim]← {reply.content}[/]")
                    history.append(reply)
                if not runnable:
                    break
            else:
                console.print(f"[red]stopped after {args.max_rounds} tool rounds without an answer[/]")
    except KeyboardInterrupt:
        pass
    console.print("bye")
    return 0
