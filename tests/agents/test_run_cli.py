"""`rixin run AGENT.yaml "task"` and `rixin runs list|show`, with a scripted model in place of open_model."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import rixin.calling
from rixin.cli.main import main

from .scripted import ScriptedModel, answer, calls, tool_results

TOOLS = '''
from rixin.tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first
        b: second
    """
    return a + b


@tool
def delete_file(path: str) -> str:
    """Delete a file.

    Args:
        path: which
    """
    return f"deleted {path}"
'''


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("RIXIN_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "tools.py").write_text(TOOLS, encoding="utf-8")
    (tmp_path / "agent.yaml").write_text(
        "name: helper\ninstructions: Use tools.\ntools: [tools.py]\napproval: [delete_file]\nmax_turns: 4\n",
        encoding="utf-8",
    )
    yield tmp_path


def use_model(monkeypatch: pytest.MonkeyPatch, model: ScriptedModel) -> list[str | None]:
    asked: list[str | None] = []

    def fake_open_model(spec: str | None = None, *_: object, **__: object) -> ScriptedModel:
        asked.append(spec)
        return model

    monkeypatch.setattr(rixin.calling, "open_model", fake_open_model)
    return asked


def test_json_prints_one_object_and_the_trace_is_stored_and_shown(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = use_model(monkeypatch, ScriptedModel([calls(("add", {"a": 2, "b": 2})), answer("4")]))
    code = main(["run", str(folder / "agent.yaml"), "2+2?", "--json", "--model", "some-model"])
    out = capsys.readouterr().out
    assert code == 0 and asked == ["some-model"]
    report = json.loads(out)  # the whole of stdout is one JSON object
    assert report["answer"] == "4" and [s["kind"] for s in report["steps"]] == ["call", "result", "answer"]
    assert report["steps"][0]["call"] == {
        "id": report["steps"][0]["call"]["id"],
        "name": "add",
        "arguments": {"a": 2, "b": 2},
    }
    assert report["usage"]["total_tokens"] == 27 and report["seconds"] >= 0
    trace = Path(report["trace"])
    assert trace.parent == folder / "data" / "runs" and trace.stem == report["run_id"]

    assert main(["runs", "show", report["run_id"]]) == 0
    shown = capsys.readouterr().out
    assert "2+2?" in shown and "→ add" in shown and "answer> 4" in shown and "22 prompt + 5 completion" in shown
    assert main(["runs", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == report["run_id"]
    assert main(["runs", "show", report["run_id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["task"] == "2+2?"


def test_live_progress_and_approval_prompts(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = ScriptedModel(
        [
            calls(("delete_file", {"path": "a.txt"}), ("delete_file", {"path": "b.txt"})),
            answer("Deleted a.txt only."),
        ]
    )
    use_model(monkeypatch, model)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nn\n"))
    code = main(["run", str(folder / "agent.yaml"), "clean up", "--no-trace"])
    captured = capsys.readouterr()
    assert code == 0
    assert "→ delete_file" in captured.out and "answer> Deleted a.txt only." in captured.out
    assert captured.err.count("approve delete_file") == 2
    results = tool_results(model.seen[1])
    assert results[0] == "deleted a.txt" and "denied by the user" in results[1]
    assert not (folder / "data" / "runs").exists()


def test_files_are_given_by_path_without_a_code_interpreter(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = folder / "numbers.csv"
    data.write_text("n\n1\n", encoding="utf-8")
    model = ScriptedModel([answer("seen")])
    use_model(monkeypatch, model)
    assert main(["run", str(folder / "agent.yaml"), "read it", "--file", str(data), "--json"]) == 0
    assert f"Files given by the user: {data.resolve()}" in (model.seen[0][-1].content or "")
    assert main(["run", str(folder / "agent.yaml"), "read it", "--file", str(folder / "absent.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_files_are_uploaded_into_the_code_interpreter(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "code.yaml").write_text("name: coder\ntools: [code_interpreter]\n", encoding="utf-8")
    data = folder / "numbers.csv"
    data.write_text("n\n1\n2\n", encoding="utf-8")
    code = "import pandas as pd\nprint(pd.read_csv('/mnt/data/numbers.csv')['n'].sum())"
    model = ScriptedModel([calls(("code_interpreter", {"code": code})), answer("3")])
    use_model(monkeypatch, model)
    assert main(["run", str(folder / "code.yaml"), "sum", "--file", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "Files in /mnt/data: numbers.csv" in (model.seen[0][-1].content or "")
    assert report["steps"][1]["text"].strip() == "stdout:\n3" and report["answer"] == "3"


def test_an_invalid_agent_is_an_error_with_line_and_field(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "bad.yaml").write_text("name: x\nmax_turns: many\n", encoding="utf-8")
    assert main(["run", str(folder / "bad.yaml"), "task"]) == 2
    assert "bad.yaml, line 2, field max_turns" in capsys.readouterr().err
    assert main(["runs", "show", "nope"]) == 2
