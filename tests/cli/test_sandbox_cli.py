"""`rixin sandbox run FILE.py`: one JSON object, through the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rixin.cli.main import main

SCRIPT = """
import pandas as pd
import matplotlib.pyplot as plt
table = pd.read_csv("numbers.csv")
print("total", table["n"].sum())
table.to_csv("doubled.csv", index=False)
table.plot(x="name", y="n", kind="bar")
plt.title("数字")
plt.savefig("chart.png")
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["sandbox", "run", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_runs_a_file_with_data_and_reports_output_files_and_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT, encoding="utf-8")
    data = tmp_path / "numbers.csv"
    data.write_text("name,n\na,1\nb,2\n", encoding="utf-8")
    code, report = run_cli(capsys, str(script), "--file", str(data), "--out", str(tmp_path / "out"), "--timeout", "60")
    assert code == 0
    assert report["error"] is None and report["stdout"] == "total 3\n"
    files = [Path(str(p)) for p in report["files"]]  # type: ignore[union-attr]
    assert {p.name for p in files} == {"doubled.csv", "chart.png"}
    assert all(p.is_file() and p.is_relative_to(tmp_path / "out") for p in files)
    images = [Path(str(p)) for p in report["images"]]  # type: ignore[union-attr]
    # the figure the kernel displayed at the end of the cell, and the file the code saved
    assert len(images) == 2 and images[-1].name == "chart.png"
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in images)


def test_errors_and_timeouts_are_reported_in_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\nprint(x)\n1 / 0\n", encoding="utf-8")
    code, report = run_cli(capsys, str(broken), "--out", str(tmp_path / "o1"))
    assert code == 0 and report["stdout"] == "1\n"
    error = report["error"]
    assert isinstance(error, dict) and error["name"] == "ZeroDivisionError" and "1 / 0" in error["traceback"]
    looping = tmp_path / "loop.py"
    looping.write_text("while True:\n    pass\n", encoding="utf-8")
    code, report = run_cli(capsys, str(looping), "--timeout", "2", "--out", str(tmp_path / "o2"))
    assert code == 0 and report["timed_out"] is True


def test_the_sandbox_holds_for_the_cli_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os, socket\n"
        "print(os.path.exists('/work/main/pyproject.toml'), os.getuid() == 0)\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); print('net')\n"
        "except OSError:\n    print('no net')\n",
        encoding="utf-8",
    )
    code, report = run_cli(capsys, str(probe), "--out", str(tmp_path / "o"))
    assert code == 0 and report["stdout"] == "False False\nno net\n"


def test_a_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sandbox", "run", str(tmp_path / "nope.py")])
    assert code == 2
    assert "nope.py" in capsys.readouterr().err
