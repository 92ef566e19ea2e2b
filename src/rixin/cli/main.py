"""`rixin` command line: thin — parses arguments, calls the parts, prints."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import pydantic

from rixin import __version__
from rixin.cli.parsers import add_agent_parsers, add_demo_parser, add_keys_parser, add_sandbox_parser, add_serve_parser
from rixin.errors import RixinError

MODEL_HELP = (
    "embedded name (qwen2.5-coder-0.5b [default], qwen2.5-coder-1.5b, smollm2-135m), a path to a .gguf file, "
    "or an OpenAI-compatible endpoint as URL#MODEL (e.g. http://127.0.0.1:8000/v1#qwen2.5)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rixin", description="Reliable tool use for open language models.")
    parser.add_argument("--version", action="version", version=f"rixin {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser("ask", help="ask once; print the answer or the tool calls")
    ask.add_argument("prompt")
    ask.add_argument("--model", default=None, help=MODEL_HELP)
    ask.add_argument("--tools", metavar="FILE.json", help="tool definitions (OpenAI format)")
    ask.add_argument("--tools-module", metavar="MOD.py", help="a Python file whose @tool functions are offered")
    ask.add_argument("--tool-choice", default="auto", help="auto | required | none | a tool name")
    ask.add_argument("--system", help="a system message")
    ask.add_argument("--no-parallel", action="store_true", help="at most one call (parallel_tool_calls=false)")
    ask.add_argument("--max-tokens", type=int, default=512)
    ask.add_argument("--temperature", type=float, default=0.0)
    ask.add_argument("--json", action="store_true", help="print the OpenAI chat-completion message object")

    chat = commands.add_parser("chat", help="interactive chat that runs your @tool functions")
    chat.add_argument("--model", default=None, help=MODEL_HELP)
    chat.add_argument("--tools-module", metavar="MOD.py", help="a Python file whose @tool functions are run")
    chat.add_argument("--tools", metavar="FILE.json", help="tool definitions only (calls are shown, not run)")
    chat.add_argument("--system", help="a system message")
    chat.add_argument("--max-rounds", type=int, default=5, help="tool rounds per message before giving up")

    models = commands.add_parser("models", help="list the embedded models, or assemble them")
    models.add_argument("action", nargs="?", default="list", choices=["list", "assemble"])
    models.add_argument("names", nargs="*", help="models to assemble, or 'all'")

    bench = commands.add_parser("bench", help="tool-calling accuracy and the three error kinds")
    bench.add_argument(
        "--suite",
        default="bfcl:all,exec:all",
        help="comma-separated: bfcl:all, bfcl:simple_python, bfcl:multiple, bfcl:parallel, "
        "bfcl:parallel_multiple, bfcl:irrelevance, exec:all, exec:single, exec:parallel, exec:multi_step, "
        "exec:irrelevance (default: bfcl:all,exec:all)",
    )
    bench.add_argument("--model", default=None, help=MODEL_HELP)
    bench.add_argument("--limit", type=int, default=None, help="a reproducible sample of N items per category")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--out", default=None, help="output folder (default: runs/bench-<time>)")
    bench.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    bench.add_argument("--concurrency", type=int, default=1, help="items in flight at once (for endpoints)")
    bench.add_argument("--baseline", choices=["llama-cpp"], help="also run plain llama-cpp-python, side by side")
    bench.add_argument(
        "--engine-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a rixin.calling.CallingOptions field, e.g. constrained=false (repeatable; for ablations)",
    )
    bench.add_argument(
        "--exec-loop",
        choices=["plain", "agent", "agent-no-correct"],
        default="plain",
        help="play execution-suite tasks with the bench's plain loop (default) or rixin's agent loop, with its "
        "self-correction on (agent) or off (agent-no-correct)",
    )

    bench.add_argument(
        "--tools-per-item",
        type=int,
        default=0,
        metavar="N",
        help="pad each BFCL item (but irrelevance) with functions of other items up to N, the item's own among "
        "them at random: requests with many tools, where shortlisting acts (default 0: as BFCL gives them)",
    )

    add_demo_parser(commands, MODEL_HELP)
    add_sandbox_parser(commands)
    add_agent_parsers(commands, MODEL_HELP)
    add_serve_parser(commands, MODEL_HELP)
    add_keys_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "ask":
            from rixin.cli.ask import run_ask

            return run_ask(args)
        if args.command == "chat":
            from rixin.cli.chat import run_chat

            return run_chat(args)
        if args.command == "models":
            return run_models(args)
        if args.command == "bench":
            from rixin.cli.bench import run_bench_command

            return run_bench_command(args)
        if args.command in ("run", "runs", "mcp-serve"):
            return run_agent_command(args)
        if args.command == "sandbox":
            from rixin.cli.sandbox import run_sandbox_command

            return run_sandbox_command(args)
        if args.command == "serve":
            from rixin.cli.serve import run_serve

            return run_serve(args)
        if args.command == "keys":
            from rixin.cli.keys import run_keys

            return run_keys(args)
        from rixin.cli.demo import run_demo

        return run_demo(args)
    except RixinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except pydantic.ValidationError as error:
        print(f"error: invalid input: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def run_agent_command(args: argparse.Namespace) -> int:
    if args.command == "run":
        from rixin.cli.run import run_run

        return run_run(args)
    if args.command == "runs":
        from rixin.cli.runs import run_runs

        return run_runs(args)
    from rixin.cli.mcp_serve import run_mcp_serve

    return run_mcp_serve(args)


def run_models(args: argparse.Namespace) -> int:
    from rixin.models import EMBEDDED_MODELS, assemble, available_models_text

    if args.action == "list":
        print(available_models_text())
        return 0
    names = list(EMBEDDED_MODELS) if not args.names or args.names == ["all"] else args.names
    for name in names:
        print(f"{name}: {assemble(name)} (sha256 verified)")
    return 0


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())
