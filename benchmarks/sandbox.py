"""Latency of the code interpreter's sandbox, against baselines measured in the same run (see README.md).

Rows: a cold session start, a warm hand-out from `SandboxPool`, a `1+1` round trip, an import-heavy first cell
(`import pandas, matplotlib.pyplot` in a fresh session) and a plot turned into a PNG. Each is measured for the
bubblewrap sandbox (`LocalSandbox`) and for the same kernel without isolation (`UnsafeLocalSandbox`), rounds
interleaved so that background load hits both alike; a plain `python -c pass` start is the floor. Medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rixin.sandbox import LocalSandbox, SandboxPool, SandboxRuntime, UnsafeLocalSandbox
from rixin.sandbox.base import Limits, Sandbox

TARGETS_MS = {"warm hand-out": 15.0, "1+1 round trip": 25.0, "cold start": 700.0}
IMPORT_CELL = "import pandas, matplotlib.pyplot"
PLOT_CELL = (
    "import matplotlib.pyplot as plt\nplt.figure(figsize=(4, 3))\nplt.plot([1, 3, 2])\nplt.title('人口')\nplt.show()\n"
)

LIMITS = Limits(timeout_s=120)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return (time.perf_counter() - started) * 1000, value


def check(result: Any, what: str) -> None:
    if not result.ok:
        raise SystemExit(f"{what} failed: {result.to_dict()}")


def fresh_session_round(factory: Callable[[], Sandbox], samples: dict[str, list[float]], label: str) -> None:
    """One fresh session: its cold start, then its first import-heavy cell, then its first plot."""
    start_ms, sandbox = timed(factory)
    try:
        import_ms, result = timed(lambda: sandbox.run(IMPORT_CELL))
        check(result, "import cell")
        plot_ms, result = timed(lambda: sandbox.run(PLOT_CELL))
        check(result, "plot")
        if not result.images:
            raise SystemExit(f"the plot produced no PNG: {result.to_dict()}")
    finally:
        sandbox.close()
    samples.setdefault(f"cold start|{label}", []).append(start_ms)
    samples.setdefault(f"import pandas+pyplot (fresh session)|{label}", []).append(import_ms)
    samples.setdefault(f"plot → PNG (first in session)|{label}", []).append(plot_ms)


def python_start_ms() -> float:
    return timed(lambda: subprocess.run(["/usr/bin/python3", "-c", "pass"], check=True))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="samples per row (default 20)")
    parser.add_argument("--pool-size", type=int, default=1, help="warm sessions in the measured pool (default 1)")
    parser.add_argument("--json-out", type=Path, help="write every sample and the medians as JSON")
    args = parser.parse_args()
    runtime = SandboxRuntime.resolve()
    runtime.check()
    samples: dict[str, list[float]] = {}
    local: Callable[[], Sandbox] = lambda: LocalSandbox(LIMITS, runtime=runtime)  # noqa: E731
    unsafe: Callable[[], Sandbox] = lambda: UnsafeLocalSandbox(LIMITS, runtime=runtime)  # noqa: E731

    with local() as probe:  # also warms the page cache, so the first round is not an outlier
        mechanisms = getattr(probe, "limit_mechanisms", [])
    print(f"limits in force: {'; '.join(mechanisms)}", flush=True)

    # 1. Fresh sessions, interleaved: bwrap, unsafe, plain interpreter start.
    for number in range(args.repeat):
        fresh_session_round(local, samples, "bwrap")
        fresh_session_round(unsafe, samples, "unsafe")
        samples.setdefault("cold start|python -c pass", []).append(python_start_ms())
        print(f"\rfresh sessions: {number + 1}/{args.repeat}", end="", flush=True)
    print()

    # 2. Round trips on one long-lived session of each kind, interleaved.
    with local() as boxed, unsafe() as bare:
        for sandbox in (boxed, bare):
            check(sandbox.run("1+1"), "warm-up")
        for _ in range(args.repeat):
            for label, sandbox in (("bwrap", boxed), ("unsafe", bare)):
                ms, result = timed(lambda sandbox=sandbox: sandbox.run("1+1"))  # type: ignore[misc]
                check(result, "1+1")
                samples.setdefault(f"1+1 round trip|{label}", []).append(ms)

    # 3. Warm hand-out from a pool (pre-started, pandas/pyplot imported), and the first result after it.
    with SandboxPool(size=args.pool_size, limits=LIMITS, factory=local) as pool:
        for number in range(args.repeat):
            if not pool.wait_ready(timeout_s=120):
                raise SystemExit(f"the pool did not fill: {pool.last_error}")
            hand_ms, sandbox = timed(pool.acquire)
            first_ms, result = timed(lambda sandbox=sandbox: sandbox.run("1+1"))  # type: ignore[misc]
            check(result, "1+1 on a pooled session")
            pool.release(sandbox)
            samples.setdefault("warm hand-out|bwrap", []).append(hand_ms)
            samples.setdefault("warm hand-out + first 1+1|bwrap", []).append(hand_ms + first_ms)
            print(f"\rpool hand-outs: {number + 1}/{args.repeat}", end="", flush=True)
        print()

    report(samples, args.repeat)
    if args.json_out:
        medians = {key: statistics.median(values) for key, values in samples.items()}
        meta = {"date": datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(), "host": platform.node()}
        args.json_out.write_text(json.dumps({"meta": meta, "medians_ms": medians, "samples_ms": samples}, indent=1))


def report(samples: dict[str, list[float]], repeat: int) -> None:
    rows: dict[str, dict[str, float]] = {}
    for key, values in samples.items():
        row, label = key.split("|")
        rows.setdefault(row, {})[label] = statistics.median(values)
    print(f"\nmedians of {repeat} samples, milliseconds ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})\n")
    print("| | bwrap sandbox | no isolation (unsafe) | bwrap / unsafe | target | python -c pass |")
    print("|---|---:|---:|---:|---|---:|")
    for row, by_label in rows.items():
        boxed, bare = by_label.get("bwrap"), by_label.get("unsafe")
        ratio = f"{boxed / bare:.2f}×" if boxed and bare else ""
        target = TARGETS_MS.get(row)
        verdict = f"≤ {target:g} {'✓' if boxed is not None and boxed <= target else '✗'}" if target else ""
        floor = by_label.get("python -c pass")
        cells = [f"{boxed:.1f}" if boxed else "", f"{bare:.1f}" if bare else "", ratio, verdict]
        print(f"| {row} | " + " | ".join(cells) + f" | {f'{floor:.1f}' if floor else ''} |")


if __name__ == "__main__":
    main()
