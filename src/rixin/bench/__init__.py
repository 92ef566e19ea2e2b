"""`rixin bench`: tool-calling accuracy and the three error kinds (selection, argument, non-executable)."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rixin.bench.checker import KINDS, Call, Verdict, canonical_calls, check_item
from rixin.bench.runner import (
    MAX_EXEC_TURNS,
    EndpointDown,
    Entry,
    ItemResult,
    finished_ids,
    load_entries,
    parse_suites,
    read_items,
    run_entries,
)
from rixin.bench.systems import AgentSystem, LlamaCppBaseline, RixinSystem, System
from rixin.errors import RixinError

__all__ = [
    "KINDS",
    "Call",
    "EndpointDown",
    "Entry",
    "ItemResult",
    "Verdict",
    "canonical_calls",
    "check_item",
    "load_entries",
    "parse_suites",
    "run_bench",
]

BASELINES = ("llama-cpp",)
EXEC_LOOPS = ("plain", "agent", "agent-no-correct")
"""How execution-suite tasks are played: the bench's own plain loop (one engine turn after another), or rixin's
agent loop with its self-correction on or off."""


def run_bench(
    *,
    suite: str,
    model: str | None,
    out: Path,
    limit: int | None = None,
    seed: int = 0,
    resume: bool = False,
    concurrency: int = 1,
    baseline: str | None = None,
    engine_options: dict[str, Any] | None = None,
    exec_loop: str = "plain",
    tools_per_item: int = 0,
    command: str = "",
    progress: Callable[[str, int, int, ItemResult | None], None] | None = None,
) -> dict[str, Any]:
    """Run the suites against rixin (and optionally a baseline) and write items, summary, report, chart.
    `tools_per_item` pads each BFCL item but irrelevance with functions of other items up to that many."""
    from rixin import __version__
    from rixin.bench.report import summarize, write_report
    from rixin.calling import CallingOptions, open_model, tuned_options
    from rixin.models import DEFAULT_MODEL, LlamaModel, parse_model_spec

    if tools_per_item < 0:
        raise RixinError(f"--tools-per-item must be 0 (no padding) or more, got {tools_per_item}")
    entries = load_entries(suite, limit, seed, tools_per_item)
    try:  # the defaults measured for an embedded model (a path or URL names none), then the options asked for
        options = tuned_options(parse_model_spec(model or DEFAULT_MODEL)[1], **(engine_options or {}))
    except TypeError as error:
        fields = ", ".join(f.name for f in dataclasses.fields(CallingOptions))
        raise RixinError(f"unknown engine option ({error}); valid: {fields}") from error
    if exec_loop not in EXEC_LOOPS:
        raise RixinError(f"unknown exec loop {exec_loop!r}; valid: {', '.join(EXEC_LOOPS)}")
    engine = open_model(model, options)
    main: System = RixinSystem(engine)
    if exec_loop != "plain":
        main = AgentSystem(engine, self_correct=exec_loop == "agent", max_turns=MAX_EXEC_TURNS)
    systems: list[tuple[System, Path]] = [(main, out / "items.jsonl")]
    if baseline:
        if baseline not in BASELINES:
            raise RixinError(f"unknown baseline {baseline!r}; valid: {', '.join(BASELINES)}")
        if not isinstance(engine.model, LlamaModel):
            raise RixinError("--baseline llama-cpp needs an embedded model or a GGUF path, not an endpoint")
        systems.append((LlamaCppBaseline(engine.model), out / f"baseline-{baseline}" / "items.jsonl"))
    out.mkdir(parents=True, exist_ok=True)
    settings = {**dataclasses.asdict(options), "exec_loop": exec_loop, "tools_per_item": tools_per_item}
    _check_same_options(out / "run.json", settings, resume)
    wanted = {e.id for e in entries}
    # The baseline first: it does not depend on rixin's code, so a long run interrupted after it can be resumed
    # under a newer engine without mixing two versions of rixin in one system's items.
    for system, path in reversed(systems):
        done = len(finished_ids(path) & wanted) if resume else 0
        total = len(entries)

        def tick(result: ItemResult, name: str = system.name, total: int = total) -> None:
            nonlocal done
            done += 1
            if progress:
                progress(name, done, total, result)

        if progress:
            progress(system.name, done, total, None)
        run_entries(entries, system, path, resume=resume, concurrency=concurrency, on_done=tick)
    categories = list(dict.fromkeys(e.category for e in entries))
    summaries = {
        system.name: summarize([i for i in read_items(path) if i["id"] in wanted], categories)
        for system, path in systems
    }
    meta = {
        "model": engine.name,
        "suite": suite,
        "limit": limit,
        "seed": seed,
        "command": command,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "rixin_version": __version__,
        "engine_options": dataclasses.asdict(options),
        "exec_loop": exec_loop,
        "tools_per_item": tools_per_item,
        "cpu_count": os.cpu_count(),
    }
    write_report(out, meta, summaries)
    return {"meta": meta, "systems": summaries}


def _check_same_options(path: Path, options: dict[str, Any], resume: bool) -> None:
    """A resumed run must use the engine options it started with, or its items would mix two configurations."""
    if resume and path.exists():
        started = json.loads(path.read_text(encoding="utf-8")).get("engine_options", {})
        # An option the run's record lacks is newer than the run: its default is what the run used.
        changed = {
            key: (started[key], value) for key, value in options.items() if key in started and started[key] != value
        }
        if changed:
            flags = " ".join(_flag(key, old) for key, (old, _) in changed.items())
            raise RixinError(f"this run was started with other engine options; resume it with: {flags}")
    path.write_text(json.dumps({"engine_options": options}, indent=2), encoding="utf-8")


def _flag(key: str, value: Any) -> str:
    """The `rixin bench` flag that sets one of run.json's settings back to `value`."""
    if key in ("exec_loop", "tools_per_item"):
        return f"--{key.replace('_', '-')} {value}"
    return f"--engine-option {key}={json.dumps(value)}"
