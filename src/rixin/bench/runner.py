"""Running benchmark items against a system, one JSON line per finished item (safe to interrupt and resume)."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rixin.bench.bfcl import BFCL_CATEGORIES, BfclItem, distractor_pool, load_category, with_distractors
from rixin.bench.checker import Verdict, check_item
from rixin.bench.systems import System, Turn
from rixin.errors import RixinError
from rixin.types import Message

MAX_EXEC_TURNS = 6


@dataclass
class ItemResult:
    id: str
    category: str
    calls: list[dict[str, Any]]
    passed: bool
    error_code: str | None
    kind: str | None
    detail: str
    latency_s: float
    prompt_tokens: int
    completion_tokens: int
    prompt_s: float
    generation_s: float
    raw_output: str
    system: str


@dataclass(frozen=True)
class Entry:
    """One benchmark item of any suite: `run` plays it against a system and judges the outcome."""

    id: str
    category: str
    run: Callable[[System], tuple[Verdict, list[Turn]]]


class EndpointDown(RixinError):
    """The model's endpoint stopped answering: the run stops; --resume continues it."""


def parse_suites(spec: str) -> list[tuple[str, str]]:
    """`bfcl:simple_python,bfcl:multiple,exec:all` → [(suite, category), …] with `all` expanded."""
    from rixin.bench.execsuite import EXEC_CATEGORIES

    valid = {"bfcl": BFCL_CATEGORIES, "exec": EXEC_CATEGORIES}
    chosen: list[tuple[str, str]] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        suite, _, category = part.partition(":")
        category = category or "all"
        if suite not in valid:
            raise RixinError(f"unknown suite {suite!r}; valid: {_listing(valid)}")
        if category == "all":
            chosen += [(suite, c) for c in valid[suite]]
            continue
        if suite == "exec" and not category.startswith("exec_"):
            category = "exec_" + category
        if category not in valid[suite]:
            raise RixinError(f"unknown category {part!r}; valid: {_listing(valid)}")
        chosen.append((suite, category))
    if not chosen:
        raise RixinError(f"no suite given; valid: {_listing(valid)}")
    return list(dict.fromkeys(chosen))


def _listing(valid: dict[str, tuple[str, ...]]) -> str:
    names = [f"{s}:{c.removeprefix('exec_')}" for s, cs in valid.items() for c in cs]
    return ", ".join([f"{s}:all" for s in valid] + names)


def sample(items: list[Any], limit: int | None, seed: int, category: str) -> list[Any]:
    """A reproducible sample of `limit` items per category (all of them when limit is None)."""
    if limit is None or limit >= len(items):
        return items
    return random.Random(f"{seed}:{category}").sample(items, limit)


def load_entries(spec: str, limit: int | None, seed: int, tools_per_item: int = 0) -> list[Entry]:
    """The sampled items of `spec`; with `tools_per_item`, each BFCL item (but irrelevance) padded to that many
    functions from other items (`rixin.bench.bfcl.with_distractors`)."""
    entries: list[Entry] = []
    pool = distractor_pool() if tools_per_item else []
    for suite, category in parse_suites(spec):
        if suite == "bfcl":
            items = sample(load_category(category), limit, seed, category)
            if tools_per_item:
                items = [with_distractors(item, tools_per_item, pool, seed) for item in items]
            entries += [_bfcl_entry(item) for item in items]
        else:
            from rixin.bench.execsuite import load_tasks

            tasks = [t for t in load_tasks() if t.category == category]
            entries += [_exec_entry(task) for task in sample(tasks, limit, seed, category)]
    return entries


def _bfcl_entry(item: BfclItem) -> Entry:
    def run(system: System) -> tuple[Verdict, list[Turn]]:
        messages = [Message.model_validate(m) for m in item.messages]
        turn = system.turn(messages, item.tools())
        verdict = check_item(item.category, turn.calls, item.functions, item.gold, unparsable=turn.unparsable)
        return verdict, [turn]

    return Entry(id=item.id, category=item.category, run=run)


def _exec_entry(task: Any) -> Entry:
    from rixin.bench.execsuite import judge
    from rixin.tools.execute import result_text

    def run(system: System) -> tuple[Verdict, list[Turn]]:
        env = task.fresh()
        play = getattr(system, "play", None)
        if play is not None:  # a system with its own loop (rixin's agent) plays the whole task
            played: list[Turn] = play(env, task.prompt)
            return judge(task, env, unparsable=any(t.unparsable for t in played)), played
        tools = list(env.tools)  # Tools: the engine sees which ones only read
        history = [Message(role="user", content=task.prompt)]
        turns: list[Turn] = []
        unparsable = False
        for _ in range(MAX_EXEC_TURNS):
            turn = system.turn(history, tools)
            turns.append(turn)
            unparsable = unparsable or turn.unparsable
            if not turn.calls:
                break
            history.append(turn.message)
            for call, wire in zip(turn.calls, turn.message.tool_calls or [], strict=False):
                _, text = env.execute(call.name, call.arguments)  # failures come back as {"error": …} data
                history.append(Message(role="tool", tool_call_id=wire.id, name=call.name, content=result_text(text)))
        return judge(task, env, unparsable=unparsable), turns

    return Entry(id=task.id, category=task.category, run=run)


def finished_ids(path: Path) -> set[str]:
    """Ids already in an items file; a torn last line (SIGKILL mid-write) is cut off."""
    if not path.exists():
        return set()
    done: set[str] = set()
    good_bytes = 0
    with path.open("rb") as handle:
        for line in handle:
            try:
                done.add(json.loads(line)["id"])
            except (ValueError, KeyError):
                break
            good_bytes += len(line)
    if good_bytes != path.stat().st_size:
        with path.open("rb+") as handle:
            handle.truncate(good_bytes)
    return done


def run_entries(
    entries: list[Entry],
    system: System,
    items_path: Path,
    *,
    resume: bool,
    concurrency: int = 1,
    on_done: Callable[[ItemResult], None] | None = None,
) -> list[ItemResult]:
    """Run every entry not yet in `items_path`, appending one JSON line per finished item."""
    items_path.parent.mkdir(parents=True, exist_ok=True)
    if not resume and items_path.exists():
        items_path.unlink()
    done = finished_ids(items_path)
    todo = [e for e in entries if e.id not in done]
    write_lock = threading.Lock()
    results: list[ItemResult] = []

    def one(entry: Entry) -> ItemResult:
        started = time.perf_counter()
        turns: list[Turn] = []
        try:
            verdict, turns = entry.run(system)
        except Exception as error:
            if _is_connection_error(error):
                raise EndpointDown(f"the endpoint stopped answering ({error}); rerun with --resume") from error
            # Scored, not fatal: one broken item must not end a long run; the detail says what happened.
            detail = f"{type(error).__name__}: {error}"
            verdict = Verdict(passed=False, error_code="system_error", kind="non_executable", detail=detail)
        result = _item_result(entry, system.name, verdict, turns, time.perf_counter() - started)
        line = json.dumps(asdict(result), ensure_ascii=False) + "\n"
        with write_lock:
            with items_path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            results.append(result)
        if on_done:
            on_done(result)
        return result

    if concurrency <= 1:
        for entry in todo:
            one(entry)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for _ in pool.map(one, todo):
                pass
    return results


def _is_connection_error(error: BaseException) -> bool:
    import openai

    from rixin.errors import EndpointUnreachableError

    return isinstance(error, EndpointUnreachableError | openai.APIConnectionError | openai.APITimeoutError)


def _item_result(entry: Entry, system: str, verdict: Verdict, turns: Iterable[Turn], seconds: float) -> ItemResult:
    turns = list(turns)
    return ItemResult(
        id=entry.id,
        category=entry.category,
        calls=[{"name": c.name, "arguments": c.arguments} for t in turns for c in t.calls],
        passed=verdict.passed,
        error_code=verdict.error_code,
        kind=verdict.kind,
        detail=verdict.detail,
        latency_s=round(seconds, 4),
        prompt_tokens=sum(t.prompt_tokens for t in turns),
        completion_tokens=sum(t.completion_tokens for t in turns),
        prompt_s=round(sum(t.timings.get("prompt_s", 0.0) for t in turns), 4),
        generation_s=round(sum(t.timings.get("generation_s", 0.0) for t in turns), 4),
        raw_output="\n===\n".join(t.raw_output for t in turns),
        system=system,
    )


def read_items(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
