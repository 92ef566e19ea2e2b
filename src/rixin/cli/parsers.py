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
    demo.add_argument("--max-turns", type=int, default=8)
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
