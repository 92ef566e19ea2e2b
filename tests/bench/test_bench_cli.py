"""`rixin bench` as a real subprocess (the console script next to the interpreter), pinned to one core."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rixin.bench.bfcl import BFCL_CATEGORIES
from rixin.bench.execsuite import EXEC_CATEGORIES

SCRIPT = Path(sys.executable).with_name("rixin")
RIXIN = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "rixin.cli.main"]
ENV = {
    **os.environ,
    "COLUMNS": "200",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "PYTHONUNBUFFERED": "1",
    "RIXIN_THREADS": "1",
}


def one_core() -> None:
    """llama.cpp threads on the 2-core test machine stall each other when another process keeps a core busy."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RIXIN, "bench", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
        preexec_fn=one_core,
    )


def assert_clean_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert "error: " in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, (fragment, done.stderr)


def test_unknown_suite(tmp_path: Path) -> None:
    done = bench("--suite", "bfcl:simple_python,nope:all", "--out", str(tmp_path / "run"))
    assert_clean_error(
        done,
        "unknown suite 'nope'",
        "valid:",
        "bfcl:all",
        "exec:all",
        *(f"bfcl:{c}" for c in BFCL_CATEGORIES),
        *(f"exec:{c.removeprefix('exec_')}" for c in EXEC_CATEGORIES),
    )
    assert not (tmp_path / "run").exists()


def test_unknown_category(tmp_path: Path) -> None:
    done = bench("--suite", "exec:sideways", "--out", str(tmp_path / "run"))
    assert_clean_error(done, "unknown category 'exec:sideways'", "exec:single", "bfcl:irrelevance")


def test_unknown_engine_option(tmp_path: Path) -> None:
    done = bench("--suite", "bfcl:irrelevance", "--limit", "1", "--engine-option", "nonsense=1", "--out", str(tmp_path))
    assert_clean_error(done, "unknown engine option", "nonsense", "valid:", "constrained", "max_repairs")


def test_malformed_engine_option(tmp_path: Path) -> None:
    done = bench("--suite", "bfcl:irrelevance", "--engine-option", "constrained", "--out", str(tmp_path))
    assert_clean_error(done, "--engine-option wants KEY=VALUE", "'constrained'")


def test_resume_needs_out() -> None:
    done = bench("--suite", "bfcl:irrelevance", "--resume")
    assert_clean_error(done, "--resume needs the --out folder")


def test_unknown_baseline_is_an_argparse_error() -> None:
    done = bench("--baseline", "vllm")
    assert done.returncode == 2
    assert "invalid choice: 'vllm'" in done.stderr and "llama-cpp" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.model
def test_bench_end_to_end_with_baseline_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--suite", "bfcl:simple_python,exec:single", "--limit", "2", "--seed", "1", "--out", str(out)]
    args += ["--baseline", "llama-cpp"]
    started = time.perf_counter()
    done = bench(*args, timeout=480)
    first_s = time.perf_counter() - started
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-4000:])
    assert "Traceback" not in done.stderr

    rixin_items = out / "items.jsonl"
    baseline_items = out / "baseline-llama-cpp" / "items.jsonl"
    rixin_lines = [json.loads(line) for line in rixin_items.read_text().splitlines()]
    baseline_lines = [json.loads(line) for line in baseline_items.read_text().splitlines()]
    assert len(rixin_lines) == 4 and len(baseline_lines) == 4
    # the baseline runs first (it does not depend on rixin's code; see run_bench)
    assert baseline_items.stat().st_mtime_ns < rixin_items.stat().st_mtime_ns
    assert {line["system"] for line in rixin_lines} == {"rixin"}
    assert {line["system"] for line in baseline_lines} == {"baseline:llama-cpp"}
    ids = [line["id"] for line in rixin_lines]
    assert sorted(ids) == sorted(line["id"] for line in baseline_lines) and len(set(ids)) == 4
    assert sum(i.startswith("simple_python_") for i in ids) == 2 and sum(i.startswith("exec_") for i in ids) == 2
    for line in rixin_lines + baseline_lines:
        assert line["prompt_tokens"] > 0 and line["raw_output"] and line["latency_s"] > 0
        assert line["error_code"] != "system_error", line

    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["systems"]) == {"rixin", "baseline:llama-cpp"}
    assert summary["model"] == "qwen2.5-coder-0.5b" and summary["seed"] == 1 and summary["limit"] == 2
    for numbers in summary["systems"].values():
        assert numbers["overall"]["n"] == 4
        assert set(numbers["categories"]) == {"simple_python", "exec_single"}
        for key in ("accuracy", "error_rate", "selection", "argument", "non_executable"):
            assert 0.0 <= numbers["overall"][key] <= 1.0
    report = (out / "report.md").read_text()
    assert "### rixin" in report and "### baseline:llama-cpp" in report and "Side by side" in report
    assert report.strip() in done.stdout  # the report is printed too
    assert (out / "kinds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    before = (rixin_items.read_bytes(), baseline_items.read_bytes())
    started = time.perf_counter()
    again = bench(*args, "--resume", timeout=240)
    resumed_s = time.perf_counter() - started
    assert again.returncode == 0, (again.stdout[-2000:], again.stderr[-4000:])
    assert (rixin_items.read_bytes(), baseline_items.read_bytes()) == before  # nothing redone, nothing added
    assert resumed_s < min(60.0, first_s), (resumed_s, first_s)
    assert set(json.loads((out / "summary.json").read_text())["systems"]) == {"rixin", "baseline:llama-cpp"}
