"""Stored traces of runs: one JSON file per run (steps, tokens, latencies) under the runs folder.

The folder is `$RIXIN_DATA_DIR/runs` (read at each call, so tests and servers can point it elsewhere), by
default `~/.local/share/rixin/runs`. Ids sort by time: `20260214-101503-a1b2c3`.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from rixin.agents.steps import AgentRun
from rixin.errors import RixinError


class TraceNotFoundError(RixinError):
    """No stored run matches the id (or the prefix matches several)."""


def runs_dir() -> Path:
    base = os.environ.get("RIXIN_DATA_DIR")
    root = Path(base).expanduser() if base else Path.home() / ".local" / "share" / "rixin"
    return root / "runs"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def trace_of(
    run: AgentRun, *, run_id: str, agent: str, model: str, task: str, started_at: float, **extra: Any
) -> dict[str, Any]:
    """The trace of a finished run: the run's own dict plus who, what and when, and per-turn totals."""
    status = run.steps[-1].kind if run.steps else "error"
    turns: dict[int, dict[str, Any]] = {}
    for step in run.steps:
        entry = turns.setdefault(step.turn, {"turn": step.turn, "model_seconds": 0.0, "tool_seconds": 0.0})
        if step.usage is not None:
            entry["usage"] = step.usage.model_dump()
        if step.kind in ("call", "answer", "error"):
            entry["model_seconds"] += step.seconds
        elif step.kind == "result":
            entry["tool_seconds"] += step.seconds
    for entry in turns.values():
        entry["model_seconds"] = round(entry["model_seconds"], 3)
        entry["tool_seconds"] = round(entry["tool_seconds"], 3)
    return {
        "id": run_id,
        "agent": agent,
        "model": model,
        "task": task,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started_at)),
        "status": status,
        **run.to_dict(),
        "turns": [turns[key] for key in sorted(turns) if key > 0],
        **extra,
    }


def save_trace(trace: dict[str, Any], directory: Path | None = None) -> Path:
    """Write the trace as `<id>.json` (through a temporary file, so a reader never sees half of it)."""
    folder = directory or runs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{trace['id']}.json"
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(trace, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    partial.replace(target)
    return target


def load_trace(run_id: str, directory: Path | None = None) -> dict[str, Any]:
    """The trace with this id, or the only one whose id starts with it."""
    folder = directory or runs_dir()
    exact = folder / f"{run_id}.json"
    matches = [exact] if exact.is_file() else sorted(folder.glob(f"{_glob_safe(run_id)}*.json"))
    if not matches:
        raise TraceNotFoundError(f"no stored run {run_id!r} in {folder}")
    if len(matches) > 1:
        names = ", ".join(path.stem for path in matches[:5])
        raise TraceNotFoundError(f"{run_id!r} matches several runs: {names}{', …' if len(matches) > 5 else ''}")
    try:
        data: dict[str, Any] = json.loads(matches[0].read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TraceNotFoundError(f"cannot read {matches[0]}: {error}") from None
    return data


def list_traces(directory: Path | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Summaries of the stored runs, newest first: id, agent, task, status, seconds, tokens."""
    folder = directory or runs_dir()
    paths = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
    out: list[dict[str, Any]] = []
    for path in paths[:limit] if limit else paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a file someone else put there, or one being written
        out.append(
            {
                "id": data.get("id", path.stem),
                "agent": data.get("agent", ""),
                "task": data.get("task", ""),
                "status": data.get("status", ""),
                "seconds": data.get("seconds", 0),
                "total_tokens": (data.get("usage") or {}).get("total_tokens", 0),
                "started_at": data.get("started_at", ""),
            }
        )
    return out


def _glob_safe(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)
