"""Stored traces: written under $RIXIN_DATA_DIR/runs (read at call time), found by id or prefix, listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rixin.agents import Agent, list_traces, load_trace, new_run_id, run_agent_to_end, runs_dir, save_trace, trace_of
from rixin.agents.trace import TraceNotFoundError
from rixin.tools import tool

from .scripted import ScriptedModel, answer, calls


@tool
def add(a: int, b: int) -> int:
    """Add.

    Args:
        a: first
        b: second
    """
    return a + b


def test_runs_dir_follows_the_environment_at_call_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RIXIN_DATA_DIR", raising=False)
    assert runs_dir() == Path.home() / ".local" / "share" / "rixin" / "runs"
    monkeypatch.setenv("RIXIN_DATA_DIR", str(tmp_path))
    assert runs_dir() == tmp_path / "runs"


def test_a_trace_holds_steps_tokens_and_latencies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RIXIN_DATA_DIR", str(tmp_path))
    model = ScriptedModel([calls(("add", {"a": 1, "b": 2})), answer("3")])
    run = run_agent_to_end(Agent(tools=[add]), model, "1+2")
    run_id = new_run_id()
    trace = trace_of(run, run_id=run_id, agent="calc", model="scripted", task="1+2", started_at=0.0, files=[])
    path = save_trace(trace)
    assert path == tmp_path / "runs" / f"{run_id}.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["answer"] == "3" and stored["status"] == "answer" and stored["usage"]["total_tokens"] == 27
    assert [s["kind"] for s in stored["steps"]] == ["call", "result", "answer"]
    assert stored["steps"][0]["usage"]["total_tokens"] == 15 and "seconds" in stored["steps"][1]
    assert [t["turn"] for t in stored["turns"]] == [1, 2] and stored["turns"][1]["usage"]["total_tokens"] == 12
    assert load_trace(run_id)["id"] == run_id
    assert load_trace(run_id[:-3])["id"] == run_id  # a unique prefix is enough
    assert list_traces()[0]["id"] == run_id and list_traces()[0]["total_tokens"] == 27


def test_unknown_and_ambiguous_ids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RIXIN_DATA_DIR", str(tmp_path))
    with pytest.raises(TraceNotFoundError, match="no stored run 'nope'"):
        load_trace("nope")
    for suffix in ("a", "b"):
        save_trace({"id": f"20240101-000000-{suffix}"})
    with pytest.raises(TraceNotFoundError, match="matches several runs"):
        load_trace("20240101")
    (tmp_path / "runs" / "junk.json").write_text("{not json", encoding="utf-8")
    assert [row["id"] for row in list_traces()] == ["20240101-000000-b", "20240101-000000-a"]
