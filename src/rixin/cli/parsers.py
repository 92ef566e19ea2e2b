"""Argument parsers of the commands whose modules are heavy to import (kept apart so `--help` stays fast)."""

from __future__ import annotations

import argparse

FLAGSHIP_MODEL = "qwen2.5-coder-1.5b"
"""The flagship runs on the 1.5B by default (docs/results.md, "Flagship")."""


def add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], model_help: str) -> None:
    demo = commands.add_parser("demo", help="the flagship: draw China's population map with the code interpreter")
    demo.add_argument("--model", default=None, help=f"{model_help} (default for the map: {FLAGSHIP_MODEL})")
    demo.add_argument("--out", default="rixin-demo", help="folder for the chart (default: ./rixin-demo)")
    demo.add_argument("--runs", type=int, default=1, help="repeat in fresh sessions; report success and times")
    demo.add_argument("--max-turns", type=int, default=6)
    demo.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="UNSAFE: run the model's code on this machine without isolation",
    )
    demo.add_argument("--tools", action="store_true", help="the short tool-calling demonstration instead")


def add_sandbox_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = commands.add_parser("sandbox", help="run Python in the sandbox")
    actions = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run", help="run FILE.py in a fresh session; print JSON with stdout, stderr, error, images, files"
    )
    run.add_argument("file", metavar="FILE.py")
    run.add_argument(
        "--file",
        dest="data",
        action="append",
        default=[],
        metavar="DATA",
        help="a file to put in the session's work folder /mnt/data first (repeatable)",
    )
    run.add_argument("--timeout", type=float, default=60.0, metavar="S", help="wall-time limit in seconds")
    run.add_argument("--memory", type=int, default=2048, metavar="MB", help="memory limit in MiB")
    run.add_argument("--disk", type=int, default=512, metavar="MB", help="size limit of the work folder in MiB")
    run.add_argument("--out", metavar="DIR", help="folder for produced files and images (default: a new temp dir)")
    run.add_argument("--gateway", metavar="URL", help="run on a remote Jupyter Kernel Gateway instead")
    run.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="UNSAFE: run the code on this machine without isolation (only for code you trust)",
    )


def add_agent_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser], model_help: str) -> None:
    """`rixin run`, `rixin runs` and `rixin mcp-serve`."""
    run = commands.add_parser("run", help="run a YAML agent on a task: live steps, approvals, a stored trace")
    run.add_argument("agent", metavar="AGENT.yaml")
    run.add_argument("task")
    run.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="F",
        help="a file for the agent: in the code interpreter's /mnt/data when it has one, else by path (repeatable)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object: answer, steps, usage, seconds")
    run.add_argument("--model", default=None, help=f"{model_help} (default: the agent's own `model`)")
    run.add_argument("--max-turns", type=int, default=None, help="override the agent's max_turns")
    run.add_argument("--yes", action="store_true", help="approve every call that needs approval without asking")
    run.add_argument("--no-trace", action="store_true", help="do not store the run's trace")
    run.add_argument(
        "--unsafe-no-sandbox", action="store_true", help="UNSAFE: run the code interpreter without isolation"
    )

    runs = commands.add_parser("runs", help="stored traces of `rixin run`")
    actions = runs.add_subparsers(dest="runs_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the stored runs, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="one run's steps, tokens and latencies")
    show.add_argument("id", metavar="ID", help="a run id (or a unique prefix)")
    show.add_argument("--json", action="store_true", help="print the stored trace as it is")

    serve = commands.add_parser("mcp-serve", help="serve rixin's code interpreter (sandboxed) as an MCP server")
    serve.add_argument("--http", type=int, metavar="PORT", help="streamable HTTP on PORT (default: stdio)")
    serve.add_argument("--host", default="127.0.0.1", help="address for --http (default: 127.0.0.1)")
    serve.add_argument("--timeout", type=float, default=60.0, metavar="S", help="wall-time limit of one run")
    serve.add_argument("--memory", type=int, default=2048, metavar="MB", help="memory limit of the session")
    serve.add_argument("--gateway", metavar="URL", help="run the code on a remote Jupyter Kernel Gateway")
    serve.add_argument("--unsafe-no-sandbox", action="store_true", help="UNSAFE: run the code without isolation")


def add_serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], model_help: str) -> None:
    serve = commands.add_parser("serve", help="an OpenAI-compatible server: chat completions with tools, files, keys")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--model", default=None, help=model_help)
    serve.add_argument("--db", default=None, metavar="URL", help=DB_HELP)
    serve.add_argument(
        "--no-auth",
        action="store_true",
        help="local no-auth mode: serve requests without a key (refused unless --host is 127.0.0.1 or localhost)",
    )
    serve.add_argument(
        "--queue-size", type=int, default=16, metavar="N", help="requests that may wait for the model (more: 429)"
    )
    serve.add_argument(
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="generations at once (default: 1 for an embedded model, 8 for an endpoint)",
    )
    serve.add_argument("--max-body-mb", type=float, default=8.0, metavar="MB", help="largest JSON request body")
    serve.add_argument("--max-file-mb", type=float, default=64.0, metavar="MB", help="largest file upload")
    serve.add_argument("--sandbox-gateway", metavar="URL", help="run the code interpreter on a Jupyter Kernel Gateway")
    serve.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="UNSAFE: the code interpreter runs model-written code on this machine without isolation",
    )


DB_HELP = (
    "database: sqlite:///PATH, a file path, or postgresql+psycopg://USER:PASSWORD@HOST/DB "
    "(default: ~/.local/share/rixin/rixin.db)"
)


def add_keys_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="API keys of the server: create, list, revoke")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key; the key is printed alone on the last line")
    create.add_argument("name", metavar="NAME", help="what the key is for (shown by `rixin keys list`)")
    listing = actions.add_parser("list", help="list keys (id, name, prefix, created, revoked)")
    revoke = actions.add_parser("revoke", help="revoke a key by its id or its prefix")
    revoke.add_argument("key", metavar="KEY_ID_OR_PREFIX")
    for action in (create, listing, revoke):
        action.add_argument("--db", default=None, metavar="URL", help=DB_HELP)
