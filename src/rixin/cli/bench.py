"""`rixin bench`: runs the suites with a progress bar and prints the report's tables."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from rixin.bench import ItemResult, run_bench
from rixin.errors import RixinError


def parse_engine_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise RixinError(f"--engine-option wants KEY=VALUE, got {pair!r}")
        try:
            options[key.strip()] = json.loads(raw.strip().lower() if raw.strip().lower() in ("true", "false") else raw)
        except json.JSONDecodeError:
            options[key.strip()] = raw
    return options


def run_bench_command(args: argparse.Namespace) -> int:
    out = Path(args.out or f"runs/bench-{time.strftime('%Y%m%d-%H%M%S')}")
    if args.resume and not args.out:
        raise RixinError("--resume needs the --out folder of the run to continue")
    console = Console(stderr=True)
    tasks: dict[str, TaskID] = {}
    passed: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[accuracy]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:

        def progress(system: str, done: int, total: int, result: ItemResult | None) -> None:
            if system not in tasks:
                tasks[system] = bar.add_task(system, total=total, completed=done, accuracy="")
                passed[system] = 0
                return
            if result is not None and result.passed:
                passed[system] += 1
            finished = max(1, done)
            bar.update(tasks[system], completed=done, accuracy=f"passed {passed[system]}/{finished} new")

        summary = run_bench(
            suite=args.suite,
            model=args.model,
            out=out,
            limit=args.limit,
            seed=args.seed,
            resume=args.resume,
            concurrency=args.concurrency,
            baseline=args.baseline,
            engine_options=parse_engine_options(args.engine_option),
            exec_loop=args.exec_loop,
            tools_per_item=args.tools_per_item,
            command="rixin " + shlex.join(sys.argv[1:]),
            progress=progress,
        )
    print((out / "report.md").read_text())
    print(f"results: {out}/ (items.jsonl, summary.json, report.md, kinds.png)")
    return 0 if summary else 1
