"""The benchmark harness: suites, sampling, the resumable items file, the exec loop and the report.

The systems here are scripted stand-ins with deterministic answers: they test the harness, not a model."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from rixin.bench.bfcl import BFCL_CATEGORIES, BfclItem, distractor_pool, load_category, with_distractors
from rixin.bench.checker import KINDS, Call, canonical_calls
from rixin.bench.execsuite import EXEC_CATEGORIES, ExecTask, load_tasks
from rixin.bench.report import summarize, write_report
from rixin.bench.runner import (
    MAX_EXEC_TURNS,
    EndpointDown,
    Entry,
    finished_ids,
    load_entries,
    parse_suites,
    read_items,
    run_entries,
    sample,
)
from rixin.bench.systems import Turn
from rixin.errors import EndpointUnreachableError, RixinError
from rixin.tools import Tool
from rixin.types import ChatResult, Message, ToolCall

REQUIRED = {
    "id": str,
    "category": str,
    "calls": list,
    "passed": bool,
    "error_code": (str, type(None)),
    "kind": (str, type(None)),
    "latency_s": float,
    "prompt_tokens": int,
    "raw_output": str,
}
KNOWN_BAD_GOLDS = {"simple_python_200", "parallel_multiple_21", "parallel_multiple_26", "parallel_multiple_94"}
EXEC_TASKS = {t.id: t for t in load_tasks()}


# -- parse_suites, sample -------------------------------------------------------------------------------------------
def test_parse_suites_expansions() -> None:
    bfcl_all = [("bfcl", c) for c in BFCL_CATEGORIES]
    exec_all = [("exec", c) for c in EXEC_CATEGORIES]
    assert parse_suites("bfcl:all") == bfcl_all
    assert parse_suites("bfcl") == bfcl_all
    assert parse_suites("exec:all") == exec_all
    assert parse_suites("exec") == exec_all
    assert parse_suites("bfcl:all,exec:all") == bfcl_all + exec_all
    assert parse_suites("bfcl:multiple") == [("bfcl", "multiple")]
    for short in ("single", "parallel", "multi_step", "irrelevance"):
        assert parse_suites(f"exec:{short}") == [("exec", f"exec_{short}")]
        assert parse_suites(f"exec:exec_{short}") == [("exec", f"exec_{short}")]
    assert parse_suites(" bfcl:parallel , exec:single ,") == [("bfcl", "parallel"), ("exec", "exec_single")]


def test_parse_suites_dedupes_in_order() -> None:
    assert parse_suites("exec:single,exec:exec_single,bfcl:irrelevance,exec:single") == [
        ("exec", "exec_single"),
        ("bfcl", "irrelevance"),
    ]
    assert parse_suites("bfcl:multiple,bfcl:all") == [("bfcl", "multiple")] + [
        ("bfcl", c) for c in BFCL_CATEGORIES if c != "multiple"
    ]


def _assert_lists_valid(message: str) -> None:
    assert "valid:" in message
    for name in ("bfcl:all", "exec:all", *(f"bfcl:{c}" for c in BFCL_CATEGORIES)):
        assert name in message, (name, message)
    for category in EXEC_CATEGORIES:
        assert f"exec:{category.removeprefix('exec_')}" in message, (category, message)


@pytest.mark.parametrize("spec", ["nope", "nope:all", "bfcl:all,foo:bar", "BFCL:simple_python"])
def test_parse_suites_unknown_suite(spec: str) -> None:
    with pytest.raises(RixinError, match="unknown suite") as raised:
        parse_suites(spec)
    _assert_lists_valid(str(raised.value))


@pytest.mark.parametrize("spec", ["bfcl:nope", "exec:nope", "bfcl:exec_single", "exec:simple_python", "bfcl:Multiple"])
def test_parse_suites_unknown_category(spec: str) -> None:
    with pytest.raises(RixinError, match="unknown category") as raised:
        parse_suites(spec)
    assert repr(spec) in str(raised.value)
    _assert_lists_valid(str(raised.value))


@pytest.mark.parametrize("spec", ["", " ", ",", " , ,"])
def test_parse_suites_empty(spec: str) -> None:
    with pytest.raises(RixinError, match="no suite given") as raised:
        parse_suites(spec)
    _assert_lists_valid(str(raised.value))


def test_sample_is_reproducible() -> None:
    items = list(range(100))
    first = sample(items, 5, 1, "simple_python")
    assert len(first) == 5 and len(set(first)) == 5 and set(first) <= set(items)
    assert sample(items, 5, 1, "simple_python") == first
    assert sample(items, 5, 2, "simple_python") != first
    assert sample(items, 5, 1, "multiple") != first  # each category draws its own sample
    assert items == list(range(100))  # the input is left alone
    assert sample(items, 100, 1, "x") == items
    assert sample(items, 1000, 1, "x") == items
    assert sample(items, None, 1, "x") == items


def test_load_entries_is_reproducible() -> None:
    spec = "bfcl:simple_python,bfcl:irrelevance,exec:single,exec:multi_step"
    ids = [e.id for e in load_entries(spec, 3, 7)]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert ids == [e.id for e in load_entries(spec, 3, 7)]
    assert ids != [e.id for e in load_entries(spec, 3, 8)]
    assert Counter(e.category for e in load_entries(spec, 3, 7)) == {
        "simple_python": 3,
        "irrelevance": 3,
        "exec_single": 3,
        "exec_multi_step": 3,
    }
    every_exec = load_entries("exec:single", 10_000, 0)
    assert len(every_exec) == sum(t.category == "exec_single" for t in EXEC_TASKS.values())
    assert len(load_entries("bfcl:multiple", None, 0)) == len(load_category("multiple"))


# -- scripted systems ---------------------------------------------------------------------------------------------
def _assistant(calls: list[Call], text: str = "") -> Turn:
    tool_calls = [ToolCall.make(c.name, c.arguments) for c in calls] or None
    raw = json.dumps([{"name": c.name, "arguments": c.arguments} for c in calls]) if calls else text
    return Turn(
        calls=calls,
        message=Message(role="assistant", content=None if calls else text, tool_calls=tool_calls),
        raw_output=raw,
        prompt_tokens=10 + len(raw),
        completion_tokens=5,
        timings={"prompt_s": 0.01, "generation_s": 0.02},
    )


class Replay:
    """Answers BFCL items with their gold's canonical calls and exec tasks with their own solution, turn by turn.

    `hooks` map a prompt (the first message's text) to a function that may raise or return another Turn."""

    def __init__(self, items: list[BfclItem], name: str = "replay") -> None:
        self.name = name
        self._bfcl = {_key(_messages(item)): item for item in items}
        self._exec = {task.prompt: task for task in EXEC_TASKS.values()}
        self.hooks: dict[str, Callable[[list[Message]], Turn | None]] = {}
        self.prompts: Counter[str] = Counter()
        self.histories: list[list[Message]] = []
        self._lock = threading.Lock()

    def turn(self, messages: list[Message], tools: Sequence[Tool | dict[str, Any]]) -> Turn:
        assert tools and all(isinstance(t, Tool) or t["type"] == "function" for t in tools)
        prompt = messages[0].content or ""
        with self._lock:
            self.prompts[prompt] += 1
            self.histories.append(list(messages))
        hook = self.hooks.get(prompt)
        if hook:
            answer = hook(messages)
            if answer is not None:
                return answer
        task = self._exec.get(prompt)
        if task is not None:
            step = sum(m.role == "assistant" for m in messages)
            if step < len(task.solution):
                return _assistant([Call(name, dict(args)) for name, args in task.solution[step]])
            return _assistant([], "Done.")
        item = self._bfcl[_key(messages)]
        if item.gold is None:
            return _assistant([], "None of these functions fits.")
        return _assistant(canonical_calls(item.gold))


def _messages(item: BfclItem) -> list[Message]:
    return [Message.model_validate(m) for m in item.messages]


def _key(messages: list[Message]) -> str:
    return json.dumps([(m.role, m.content) for m in messages])


BFCL_SPEC = "bfcl:simple_python,bfcl:multiple,bfcl:parallel,bfcl:parallel_multiple,bfcl:irrelevance"
EXEC_SPEC = "exec:single,exec:parallel,exec:multi_step,exec:irrelevance"


@pytest.fixture(scope="module")
def bfcl_items() -> dict[str, BfclItem]:
    return {item.id: item for category in BFCL_CATEGORIES for item in load_category(category)}


@pytest.fixture(scope="module")
def entries(bfcl_items: dict[str, BfclItem]) -> list[Entry]:
    chosen = [e for e in load_entries(f"{BFCL_SPEC},{EXEC_SPEC}", 2, 3) if e.id not in KNOWN_BAD_GOLDS]
    assert len(chosen) >= 16
    return chosen


@pytest.fixture
def system(bfcl_items: dict[str, BfclItem]) -> Replay:
    return Replay(list(bfcl_items.values()))


def _prompt_of(entry_id: str, bfcl_items: dict[str, BfclItem]) -> str:
    if entry_id in EXEC_TASKS:
        return EXEC_TASKS[entry_id].prompt
    return _messages(bfcl_items[entry_id])[0].content or ""


def _lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _runs_per_id(system: Replay, bfcl_items: dict[str, BfclItem], ids: list[str]) -> dict[str, int]:
    """How many times each entry was started (its first turn)."""
    firsts = Counter((h[0].content or "") for h in system.histories if not any(m.role == "assistant" for m in h))
    return {i: firsts[_prompt_of(i, bfcl_items)] for i in ids}


# -- run_entries ---------------------------------------------------------------------------------------------------
def test_one_line_per_item_with_every_field(entries: list[Entry], system: Replay, tmp_path: Path) -> None:
    path = tmp_path / "deep" / "items.jsonl"
    results = run_entries(entries, system, path, resume=False)
    lines = _lines(path)
    assert [line["id"] for line in lines] == [e.id for e in entries]
    assert [r.id for r in results] == [e.id for e in entries]
    for line, entry in zip(lines, entries, strict=True):
        for field, types in REQUIRED.items():
            assert isinstance(line[field], types), (field, line)
        assert line["category"] == entry.category
        assert line["system"] == "replay"
        assert line["passed"] is True, line  # the golds and solutions replayed
        assert line["error_code"] is None and line["kind"] is None
        assert line["latency_s"] >= 0 and line["prompt_tokens"] > 0 and line["raw_output"]
        if entry.category in ("irrelevance", "exec_irrelevance"):
            assert line["calls"] == []
        else:
            assert line["calls"] and all(set(c) == {"name", "arguments"} for c in line["calls"])
    assert read_items(path) == lines
    assert finished_ids(path) == {e.id for e in entries}


def test_failures_are_scored(bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path) -> None:
    entries = load_entries("bfcl:simple_python,bfcl:irrelevance", 1, 0)
    simple, irrelevant = entries
    system.hooks[_prompt_of(simple.id, bfcl_items)] = lambda _: _assistant([], "I would rather not.")
    system.hooks[_prompt_of(irrelevant.id, bfcl_items)] = lambda _: _assistant([Call("whatever", {})])
    run_entries(entries, system, tmp_path / "items.jsonl", resume=False)
    first, second = _lines(tmp_path / "items.jsonl")
    assert (first["passed"], first["error_code"], first["kind"]) == (False, "no_call", "selection")
    assert (second["passed"], second["error_code"], second["kind"]) == (False, "unexpected_call", "selection")
    assert second["calls"] == [{"name": "whatever", "arguments": {}}]
    assert first["detail"] and second["detail"]


def test_with_distractors_pads_around_the_items_own_functions(bfcl_items: dict[str, BfclItem]) -> None:
    pool = distractor_pool()
    assert len({f["name"] for f in pool}) == len(pool) > 100
    item = load_entries("bfcl:parallel_multiple", 1, 0)[0].id
    original = bfcl_items[item]
    padded = with_distractors(original, 30, pool, seed=0)
    names = [f["name"] for f in padded.functions]
    own = [f["name"] for f in original.functions]
    assert len(names) == 30 and len(set(names)) == 30
    assert [n for n in names if n in own] == own  # the item's own, in their order, somewhere among the rest
    assert names[: len(own)] != own or names[-len(own) :] != own
    assert (padded.messages, padded.gold, padded.id) == (original.messages, original.gold, original.id)
    assert with_distractors(original, 30, pool, seed=0) == padded
    assert with_distractors(original, 30, pool, seed=1) != padded
    assert original.functions == bfcl_items[item].functions  # the item itself is left alone
    irrelevant = next(i for i in bfcl_items.values() if i.category == "irrelevance")
    assert with_distractors(irrelevant, 30, pool, seed=0) is irrelevant
    assert with_distractors(original, len(own), pool, seed=0) is original


def test_padded_items_are_scored_against_their_own_gold(bfcl_items: dict[str, BfclItem], tmp_path: Path) -> None:
    offered: list[int] = []

    class Counting(Replay):
        def turn(self, messages: list[Message], tools: list[dict[str, Any]]) -> Turn:
            offered.append(len(tools))
            return super().turn(messages, tools)

    system = Counting(list(bfcl_items.values()))
    spec = "bfcl:simple_python,bfcl:multiple,bfcl:irrelevance"
    entries = [e for e in load_entries(spec, 3, 5, tools_per_item=25) if e.id not in KNOWN_BAD_GOLDS]
    run_entries(entries, system, tmp_path / "items.jsonl", resume=False)
    assert all(line["passed"] for line in _lines(tmp_path / "items.jsonl"))
    assert sorted(offered)[-len(entries) + 3 :] == [25] * (len(entries) - 3)  # irrelevance keeps its own few
    assert max(sorted(offered)[:3]) < 25
    # a call to a padding function is the wrong function
    simple = entries[0]
    padded = with_distractors(bfcl_items[simple.id], 25, distractor_pool(), seed=5)
    stranger = next(f["name"] for f in padded.functions if f not in bfcl_items[simple.id].functions)
    system.hooks[_prompt_of(simple.id, bfcl_items)] = lambda _: _assistant([Call(stranger, {})])
    run_entries([simple], system, tmp_path / "again.jsonl", resume=False)
    (line,) = _lines(tmp_path / "again.jsonl")
    assert (line["passed"], line["kind"]) == (False, "selection")


def test_resume_skips_finished_items(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    run_entries(entries[:5], system, path, resume=False)
    before = path.read_bytes()
    again = Replay(list(bfcl_items.values()))
    results = run_entries(entries, again, path, resume=True)
    assert [r.id for r in results] == [e.id for e in entries[5:]]
    runs = _runs_per_id(again, bfcl_items, [e.id for e in entries])
    assert all(runs[e.id] == 0 for e in entries[:5]), runs
    assert all(runs[e.id] == 1 for e in entries[5:]), runs
    assert path.read_bytes().startswith(before)  # the finished lines are kept as they were
    assert [line["id"] for line in _lines(path)] == [e.id for e in entries]
    # nothing left to do
    idle = Replay(list(bfcl_items.values()))
    assert run_entries(entries, idle, path, resume=True) == []
    assert not idle.histories
    assert len(_lines(path)) == len(entries)


def test_resume_cuts_a_torn_last_line_and_redoes_it(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    run_entries(entries[:4], system, path, resume=False)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # as if killed while writing the fourth line: three whole lines, then half of one
    path.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2], encoding="utf-8")
    again = Replay(list(bfcl_items.values()))
    results = run_entries(entries[:4], again, path, resume=True)
    assert [r.id for r in results] == [entries[3].id]
    runs = _runs_per_id(again, bfcl_items, [e.id for e in entries[:4]])
    assert runs == {**{e.id: 0 for e in entries[:3]}, entries[3].id: 1}
    assert [line["id"] for line in _lines(path)] == [e.id for e in entries[:4]]
    assert path.read_text(encoding="utf-8").splitlines(keepends=True)[:3] == lines[:3]


def test_finished_ids_truncates_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    assert finished_ids(path) == set()
    whole = json.dumps({"id": "a", "passed": True}) + "\n" + json.dumps({"id": "b", "passed": False}) + "\n"
    path.write_text(whole + '{"id": "c", "pass')
    assert finished_ids(path) == {"a", "b"}
    assert path.read_text() == whole
    path.write_text(whole + '{"no_id": 1}\n' + json.dumps({"id": "d"}) + "\n")  # nothing after a bad line counts
    assert finished_ids(path) == {"a", "b"}
    assert path.read_text() == whole


def test_without_resume_a_run_starts_fresh(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    run_entries(entries[:3], system, path, resume=False)
    run_entries(entries[:3], system, path, resume=False)
    assert [line["id"] for line in _lines(path)] == [e.id for e in entries[:3]]
    assert set(_runs_per_id(system, bfcl_items, [e.id for e in entries[:3]]).values()) == {2}
    path.write_text('{"id": "stale"}\n{"torn')
    run_entries(entries[:2], system, path, resume=False)
    assert [line["id"] for line in _lines(path)] == [e.id for e in entries[:2]]


def test_a_broken_item_is_scored_and_the_run_goes_on(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path
) -> None:
    broken = entries[2]

    def explode(_: list[Message]) -> Turn:
        raise ValueError("model produced garbage")

    system.hooks[_prompt_of(broken.id, bfcl_items)] = explode
    path = tmp_path / "items.jsonl"
    run_entries(entries, system, path, resume=False)
    lines = {line["id"]: line for line in _lines(path)}
    assert set(lines) == {e.id for e in entries}
    bad = lines.pop(broken.id)
    assert (bad["passed"], bad["error_code"], bad["kind"]) == (False, "system_error", "non_executable")
    assert bad["detail"] == "ValueError: model produced garbage"
    assert bad["calls"] == [] and bad["raw_output"] == "" and bad["prompt_tokens"] == 0
    assert all(line["passed"] for line in lines.values())


def _endpoint_down_after(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, error: Exception, tmp_path: Path
) -> Path:
    def down(_: list[Message]) -> Turn:
        raise error

    system.hooks[_prompt_of(entries[3].id, bfcl_items)] = down
    path = tmp_path / "items.jsonl"
    with pytest.raises(EndpointDown, match="--resume") as raised:
        run_entries(entries, system, path, resume=False)
    assert raised.value.__cause__ is error
    assert isinstance(raised.value, RixinError)
    lines = _lines(path)  # every line written before is whole
    assert [line["id"] for line in lines] == [e.id for e in entries[:3]]
    assert all(line["passed"] for line in lines)
    assert _runs_per_id(system, bfcl_items, [e.id for e in entries[4:]]) == {e.id: 0 for e in entries[4:]}
    # back up: --resume finishes the rest
    del system.hooks[_prompt_of(entries[3].id, bfcl_items)]
    run_entries(entries, system, path, resume=True)
    assert [line["id"] for line in _lines(path)] == [e.id for e in entries]
    return path


def test_openai_connection_error_stops_the_run(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path
) -> None:
    import openai

    _endpoint_down_after(entries, bfcl_items, system, openai.APIConnectionError(request=None), tmp_path)  # type: ignore[arg-type]


def test_endpoint_unreachable_stops_the_run(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path
) -> None:
    error = EndpointUnreachableError("cannot reach the endpoint http://127.0.0.1:9/v1: Connection error.")
    _endpoint_down_after(entries, bfcl_items, system, error, tmp_path)


def test_concurrency_gives_the_same_results(
    entries: list[Entry], bfcl_items: dict[str, BfclItem], system: Replay, tmp_path: Path
) -> None:
    broken = entries[1]
    system.hooks[_prompt_of(broken.id, bfcl_items)] = lambda _: _assistant([], "no")

    def outcome(path: Path) -> dict[str, tuple[Any, ...]]:
        return {
            line["id"]: (line["category"], line["passed"], line["error_code"], line["kind"], line["calls"])
            for line in _lines(path)
        }

    run_entries(entries, system, tmp_path / "one.jsonl", resume=False, concurrency=1)
    done: list[str] = []
    results = run_entries(
        entries, system, tmp_path / "three.jsonl", resume=False, concurrency=3, on_done=lambda r: done.append(r.id)
    )
    one, three = outcome(tmp_path / "one.jsonl"), outcome(tmp_path / "three.jsonl")
    assert one == three
    assert len(_lines(tmp_path / "three.jsonl")) == len(entries)
    assert sorted(done) == sorted(r.id for r in results) == sorted(e.id for e in entries)
    assert one[broken.id][1:3] == (False, "no_call")


# -- the exec loop ----------------------------------------------------------------------------------------------
def _exec_entry(task_id: str) -> Entry:
    task = EXEC_TASKS[task_id]
    return next(e for e in load_entries(f"exec:{task.category}", None, 0) if e.id == task_id)


@pytest.mark.parametrize("category", EXEC_CATEGORIES)
def test_exec_replaying_the_solution_passes(category: str, system: Replay, tmp_path: Path) -> None:
    task = next(
        t
        for t in EXEC_TASKS.values()
        if t.category == category
        and len(t.solution) == max(len(u.solution) for u in EXEC_TASKS.values() if u.category == category)
    )
    [result] = run_entries([_exec_entry(task.id)], system, tmp_path / "items.jsonl", resume=False)
    assert (result.passed, result.error_code, result.kind) == (True, None, None), result.detail
    wanted = [{"name": name, "arguments": dict(args)} for turn in task.solution for name, args in turn]
    assert result.calls == wanted
    assert len(system.histories) == len(task.solution) + 1  # one turn per solution turn, then words
    assert len(result.raw_output.split("\n===\n")) == len(task.solution) + 1
    _assert_results_fed_back(task, system.histories)


def _assert_results_fed_back(task: ExecTask, histories: list[list[Message]]) -> None:
    for step, history in enumerate(histories):
        assert history[0] == Message(role="user", content=task.prompt)
        assert sum(m.role == "assistant" for m in history) == step
        calls = [c for m in history if m.role == "assistant" for c in m.tool_calls or []]
        answers = [m for m in history if m.role == "tool"]
        assert [a.tool_call_id for a in answers] == [c.id for c in calls]
        assert [a.name for a in answers] == [c.function.name for c in calls]
        assert all(a.content and not a.content.startswith('{"error"') for a in answers), answers


def test_exec_multi_step_sees_real_results(system: Replay, tmp_path: Path) -> None:
    task = next(t for t in EXEC_TASKS.values() if t.category == "exec_multi_step")
    run_entries([_exec_entry(task.id)], system, tmp_path / "items.jsonl", resume=False)
    last = system.histories[-1]
    first_results = [m.content for m in last if m.role == "tool"][: len(task.solution[0])]
    env = task.fresh()
    assert first_results == [env.execute(name, args)[1] for name, args in task.solution[0]]


def test_exec_bad_arguments_are_non_executable(system: Replay, tmp_path: Path) -> None:
    task = next(t for t in EXEC_TASKS.values() if t.category == "exec_single")
    name = task.solution[0][0][0]

    def bad(messages: list[Message]) -> Turn:
        if any(m.role == "assistant" for m in messages):
            return _assistant([], "Sorry, that did not work.")
        return _assistant([Call(name, {"no_such_argument": 1})])

    system.hooks[task.prompt] = bad
    [result] = run_entries([_exec_entry(task.id)], system, tmp_path / "items.jsonl", resume=False)
    assert (result.passed, result.error_code, result.kind) == (False, "not_executable_call", "non_executable")
    assert name in result.detail
    tool_answer = next(m for m in system.histories[-1] if m.role == "tool")
    assert "error" in json.loads(tool_answer.content or "")


def test_exec_turns_are_capped(system: Replay, tmp_path: Path) -> None:
    task = next(t for t in EXEC_TASKS.values() if t.category == "exec_irrelevance")
    forever = Call(task.fresh().tools[0].name, {})
    system.hooks[task.prompt] = lambda _: _assistant([forever])
    [result] = run_entries([_exec_entry(task.id)], system, tmp_path / "items.jsonl", resume=False)
    assert len(system.histories) == MAX_EXEC_TURNS
    assert len(result.calls) == MAX_EXEC_TURNS
    assert (result.passed, result.error_code, result.kind) == (False, "unexpected_call", "selection")


def test_exec_unparsable_output_is_non_executable(system: Replay, tmp_path: Path) -> None:
    task = next(t for t in EXEC_TASKS.values() if t.category == "exec_single")
    garbled = Turn(
        calls=[], message=Message(role="assistant", content="<tool_call>{"), raw_output="<tool_call>{", unparsable=True
    )
    system.hooks[task.prompt] = lambda _: garbled
    [result] = run_entries([_exec_entry(task.id)], system, tmp_path / "items.jsonl", resume=False)
    assert (result.error_code, result.kind) == ("unparsable_output", "non_executable")
    assert result.raw_output == "<tool_call>{"


# -- the report ------------------------------------------------------------------------------------------------------
def _item(category: str, kind: str | None, code: str | None = None, latency: float = 1.0) -> dict[str, Any]:
    return {
        "id": f"{category}_{kind}_{latency}",
        "category": category,
        "passed": kind is None,
        "kind": kind,
        "error_code": code or {"selection": "no_call", "argument": "wrong_value"}.get(kind or ""),
        "latency_s": latency,
        "prompt_tokens": 100,
        "prompt_s": 0.5,
        "generation_s": 0.25,
    }


def test_summarize() -> None:
    items = [
        _item("simple_python", None),
        _item("simple_python", "argument", latency=3.0),
        _item("simple_python", "selection", latency=2.0),
        _item("simple_python", None, latency=4.0),
        _item("exec_single", "non_executable", "not_executable_call"),
    ]
    summary = summarize(items, ["simple_python", "exec_single", "multiple"])
    simple = summary["categories"]["simple_python"]
    assert simple["n"] == 4
    assert (simple["accuracy"], simple["error_rate"]) == (0.5, 0.5)
    assert (simple["selection"], simple["argument"], simple["non_executable"]) == (0.25, 0.25, 0.0)
    assert simple["median_latency_s"] == 2.5 and simple["total_latency_s"] == 10.0
    assert simple["error_codes"] == {"wrong_value": 1, "no_call": 1}
    overall = summary["overall"]
    assert (overall["n"], overall["accuracy"]) == (5, 0.4)
    assert overall["error_rate"] == pytest.approx(0.6)
    assert overall["non_executable"] == 0.2
    assert overall["error_rate"] == pytest.approx(sum(overall[k] for k in KINDS))
    assert summary["categories"]["multiple"] == {"n": 0}


def test_write_report_two_systems(tmp_path: Path) -> None:
    categories = ["simple_python", "exec_single", "multiple"]
    rixin = summarize([_item("simple_python", None), _item("exec_single", "argument")], categories)
    baseline = summarize([_item("simple_python", "selection"), _item("exec_single", "non_executable")], categories)
    meta = {"model": "tiny", "suite": "bfcl:simple_python,exec:single", "limit": 1, "seed": 0, "command": "rixin x"}
    write_report(tmp_path, meta, {"rixin": rixin, "baseline:llama-cpp": baseline})

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["model"] == "tiny" and summary["seed"] == 0
    assert set(summary["systems"]) == {"rixin", "baseline:llama-cpp"}
    assert summary["overall"] == summary["systems"]["rixin"]["overall"]  # rixin's numbers at the top too
    for name, numbers in summary["systems"].items():
        for scope in (numbers["overall"], *(numbers["categories"][c] for c in categories[:2])):
            for key in ("accuracy", "error_rate", *KINDS):
                assert isinstance(scope[key], float), (name, key)
    assert summary["systems"]["rixin"]["overall"]["accuracy"] == 0.5
    assert summary["systems"]["rixin"]["categories"]["exec_single"]["argument"] == 1.0
    assert summary["systems"]["baseline:llama-cpp"]["overall"]["accuracy"] == 0.0
    assert summary["systems"]["baseline:llama-cpp"]["overall"]["selection"] == 0.5

    report = (tmp_path / "report.md").read_text()
    assert "# Tool-calling benchmark — tiny" in report and "`rixin x`" in report
    assert "### rixin" in report and "### baseline:llama-cpp" in report
    assert "| simple_python | 1 | 100.0% | 0.0% | 0.0% | 0.0% | 0.0% | 1.00 |" in report
    assert "| exec_single | 1 | 0.0% | 100.0% | 0.0% | 100.0% | 0.0% | 1.00 |" in report
    assert "| **overall** | 2 | 50.0% | 50.0% | 0.0% | 50.0% | 0.0% | 1.00 |" in report
    assert "| multiple |" not in report.split("### Side by side")[0]  # empty categories are left out
    assert "### Side by side (total error)" in report
    assert "| category | rixin | baseline:llama-cpp |" in report
    assert "| simple_python | 0.0% | 100.0% |" in report
    assert "| overall | 50.0% | 100.0% |" in report
    assert "| multiple | – | – |" in report
    assert "### The published table, for reference" in report and "| GPT-4 | 19% |" in report
    assert (tmp_path / "kinds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_report_one_system(tmp_path: Path) -> None:
    rixin = summarize([_item("irrelevance", None)], ["irrelevance"])
    write_report(tmp_path, {"model": "m"}, {"rixin": rixin})
    report = (tmp_path / "report.md").read_text()
    assert "### rixin" in report and "Side by side" not in report
    assert json.loads((tmp_path / "summary.json").read_text())["overall"]["accuracy"] == 1.0
    assert (tmp_path / "kinds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_from_a_real_run(entries: list[Entry], system: Replay, tmp_path: Path) -> None:
    run_entries(entries, system, tmp_path / "items.jsonl", resume=False)
    categories = list(dict.fromkeys(e.category for e in entries))
    summary = summarize(read_items(tmp_path / "items.jsonl"), categories)
    assert summary["overall"]["n"] == len(entries) and summary["overall"]["accuracy"] == 1.0
    assert all(summary["categories"][c]["n"] >= 1 for c in categories)
    write_report(tmp_path, {"model": "replay"}, {"replay": summary})
    for category in categories:
        assert f"| {category} | " in (tmp_path / "report.md").read_text()


# -- run_bench without a model ------------------------------------------------------------------------------------
class _WordsOnly:
    """An engine stand-in that always answers in words."""

    name = "words-only"
    model = None

    def __init__(self) -> None:
        self.requests = 0

    def chat(self, messages: list[Message], **_: Any) -> Any:
        from rixin.types import ChatResult

        self.requests += 1
        return ChatResult(
            message=Message(role="assistant", content="No function fits."), raw_output="No function fits."
        )


@pytest.fixture
def words_only(monkeypatch: pytest.MonkeyPatch) -> _WordsOnly:
    import rixin.calling

    engine = _WordsOnly()
    monkeypatch.setattr(rixin.calling, "open_model", lambda spec, options=None: engine)
    return engine


def test_run_bench_writes_everything(words_only: _WordsOnly, tmp_path: Path) -> None:
    from rixin.bench import run_bench

    out = tmp_path / "run"
    summary = run_bench(suite="bfcl:irrelevance,exec:irrelevance", model=None, out=out, limit=2, seed=5)
    assert words_only.requests == 4
    assert summary["systems"]["rixin"]["overall"]["accuracy"] == 1.0
    assert summary["meta"]["model"] == "words-only" and summary["meta"]["engine_options"]["constrained"] is True
    assert {p.name for p in out.iterdir()} == {"items.jsonl", "run.json", "summary.json", "report.md", "kinds.png"}
    assert len(_lines(out / "items.jsonl")) == 4
    run_bench(suite="bfcl:irrelevance,exec:irrelevance", model=None, out=out, limit=2, seed=5, resume=True)
    assert words_only.requests == 4 and len(_lines(out / "items.jsonl")) == 4


def test_run_bench_starts_from_the_models_measured_defaults(words_only: _WordsOnly, tmp_path: Path) -> None:
    from rixin.bench import run_bench

    tuned = run_bench(suite="bfcl:irrelevance", model="qwen2.5-coder-1.5b", out=tmp_path / "a", limit=1)
    assert tuned["meta"]["engine_options"]["plan_as_calls"] is True
    changed = run_bench(
        suite="bfcl:irrelevance",
        model="qwen2.5-coder-1.5b",
        out=tmp_path / "b",
        limit=1,
        engine_options={"plan_as_calls": False},
    )
    assert changed["meta"]["engine_options"]["plan_as_calls"] is False
    default = run_bench(suite="bfcl:irrelevance", model=None, out=tmp_path / "c", limit=1)
    assert default["meta"]["engine_options"]["lookup_first"] is False  # the 0.5B's defaults: no lookup first


def test_run_bench_rejects_bad_options(words_only: _WordsOnly, tmp_path: Path) -> None:
    from rixin.bench import run_bench

    with pytest.raises(RixinError, match=r"unknown engine option .*valid: .*constrained"):
        run_bench(suite="bfcl:irrelevance", model=None, out=tmp_path, limit=1, engine_options={"nonsense": 1})
    with pytest.raises(RixinError, match="unknown baseline 'nope'; valid: llama-cpp"):
        run_bench(suite="bfcl:irrelevance", model=None, out=tmp_path, limit=1, baseline="nope")
    with pytest.raises(RixinError, match="needs an embedded model"):
        run_bench(suite="bfcl:irrelevance", model=None, out=tmp_path, limit=1, baseline="llama-cpp")
    assert words_only.requests == 0


def test_run_bench_progress_counts_resumed_items(words_only: _WordsOnly, tmp_path: Path) -> None:
    from rixin.bench import run_bench

    run_bench(suite="bfcl:irrelevance", model=None, out=tmp_path, limit=2, seed=0)
    first, _ = (tmp_path / "items.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "items.jsonl").write_text(first)  # one of the two finished
    seen: list[tuple[str, int, int]] = []
    run_bench(
        suite="bfcl:irrelevance",
        model=None,
        out=tmp_path,
        limit=2,
        seed=0,
        resume=True,
        progress=lambda name, done, total, result: seen.append((name, done, total)),
    )
    assert seen[-1] == ("rixin", 2, 2)  # holds today
    assert seen[0] == ("rixin", 1, 2)


def test_a_resumed_run_must_keep_its_engine_options(tmp_path: Path) -> None:
    from rixin.bench import _check_same_options
    from rixin.errors import RixinError

    record = tmp_path / "run.json"
    _check_same_options(record, {"plan_calls": False, "max_repairs": 2}, resume=False)
    _check_same_options(record, {"plan_calls": False, "max_repairs": 2}, resume=True)  # same: fine
    with pytest.raises(RixinError, match="--engine-option plan_calls=false"):
        _check_same_options(record, {"plan_calls": True, "max_repairs": 2}, resume=True)
    _check_same_options(record, {"plan_calls": True, "max_repairs": 2}, resume=False)  # a fresh run starts over
    assert json.loads(record.read_text())["engine_options"]["plan_calls"] is True


# -- execution tasks played by rixin's agent loop (--exec-loop) ------------------------------------------------------
class _Script:
    """A ChatModel that returns prepared turns and records the conversations it was shown."""

    name = "script"

    def __init__(self, turns: list[ChatResult]) -> None:
        self.turns = list(turns)
        self.seen: list[list[Message]] = []

    def chat(self, messages: list[Message], **_: Any) -> ChatResult:
        self.seen.append(list(messages))
        return self.turns.pop(0)


def _calls(*pairs: tuple[str, dict[str, Any]]) -> ChatResult:
    return ChatResult(message=Message(role="assistant", tool_calls=[ToolCall.make(n, a) for n, a in pairs]))


@pytest.mark.parametrize("self_correct", [True, False], ids=["agent", "agent-no-correct"])
def test_the_agent_loop_plays_a_task_through_the_env(self_correct: bool, tmp_path: Path) -> None:

    from rixin.agents.loop import CORRECTION_HINT
    from rixin.bench.systems import AgentSystem

    task = next(t for t in EXEC_TASKS.values() if t.category == "exec_multi_step")
    first_name = task.solution[0][0][0]
    script = [_calls((first_name, {"no_such_argument": 1}))]  # fails: the API rejects it
    script += [_calls(*[(name, dict(args)) for name, args in turn]) for turn in task.solution]
    script.append(ChatResult(message=Message(role="assistant", content="Done.")))
    model = _Script(script)
    system = AgentSystem(model, self_correct=self_correct, max_turns=MAX_EXEC_TURNS)  # type: ignore[arg-type]
    assert system.name == ("rixin-agent" if self_correct else "rixin-agent-no-correct")

    [result] = run_entries([_exec_entry(task.id)], system, tmp_path / "items.jsonl", resume=False)

    assert (result.passed, result.error_code) == (True, None), result.detail
    wanted = [{"name": first_name, "arguments": {"no_such_argument": 1}}]
    wanted += [{"name": name, "arguments": dict(args)} for turn in task.solution for name, args in turn]
    assert result.calls == wanted
    assert result.system == system.name
    failed_result = next(m for m in model.seen[1] if m.role == "tool")
    assert failed_result.content and failed_result.content.startswith('{"error"')
    assert (CORRECTION_HINT in failed_result.content) is self_correct


def test_run_bench_rejects_an_unknown_exec_loop(tmp_path: Path) -> None:
    from rixin.bench import run_bench
    from rixin.errors import RixinError

    with pytest.raises(RixinError, match="valid: plain, agent, agent-no-correct"):
        run_bench(suite="exec:single", model=None, out=tmp_path, limit=1, exec_loop="loop")


def test_options_newer_than_a_resumed_run_take_their_defaults(tmp_path: Path) -> None:
    from rixin.bench import _check_same_options

    record = tmp_path / "run.json"
    record.write_text(json.dumps({"engine_options": {"plan_calls": True}}))
    _check_same_options(record, {"plan_calls": True, "shortlist": 12}, resume=True)  # no error


def test_a_resumed_run_names_the_flags_it_was_started_with(tmp_path: Path) -> None:
    from rixin.bench import _check_same_options

    record = tmp_path / "run.json"
    record.write_text(json.dumps({"engine_options": {"plan_calls": True, "exec_loop": "plain", "tools_per_item": 30}}))
    with pytest.raises(RixinError) as raised:
        _check_same_options(record, {"plan_calls": False, "exec_loop": "agent", "tools_per_item": 0}, resume=True)
    assert "--engine-option plan_calls=true --exec-loop plain --tools-per-item 30" in str(raised.value)


def test_run_bench_rejects_negative_padding(tmp_path: Path) -> None:
    from rixin.bench import run_bench

    with pytest.raises(RixinError, match="--tools-per-item"):
        run_bench(suite="bfcl:simple_python", model=None, out=tmp_path, limit=1, tools_per_item=-1)
