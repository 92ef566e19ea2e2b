"""What the model reads back from a code run: short, with the error's last frames last."""

from __future__ import annotations

from pathlib import Path

import pytest

from rixin.sandbox.base import RunError, RunResult
from rixin.tools.code_interpreter import TRACEBACK_LINES, describe_run


def test_output_result_files_and_images_are_listed() -> None:
    result = RunResult(stdout="hello\n", results=["42"], files=["out.csv"], images=[Path("/x/a.png")])
    text = describe_run(result)
    assert text == "stdout:\nhello\nresult:\n42\nfiles written: /mnt/data/out.csv\n1 image(s) displayed"


def test_an_error_shows_only_the_last_traceback_lines_and_comes_last() -> None:
    frames = "\n".join(f"frame {i}" for i in range(50)) + "\nKeyError: 'province'"
    result = RunResult(stdout="partial\n", error=RunError("KeyError", "'province'", frames))
    text = describe_run(result)
    assert text.startswith("stdout:\npartial\nerror:\n")
    assert text.endswith("KeyError: 'province'")
    assert "frame 0\n" not in text and len(text.split("error:\n")[1].splitlines()) == TRACEBACK_LINES


def test_timeouts_empty_runs_and_long_output() -> None:
    assert describe_run(RunResult()) == "(the code ran without output)"
    assert "time limit" in describe_run(RunResult(timed_out=True))
    long = describe_run(RunResult(stdout="x" * 10_000 + "END"), max_chars=100)
    assert long.startswith("stdout:\n[…]\n") and long.endswith("END") and len(long) < 130
    # stderr is noise next to a traceback (warnings), but shown when the code succeeded
    assert "stderr:\nwarn" in describe_run(RunResult(stderr="warn"))
    assert "stderr" not in describe_run(RunResult(stderr="warn", error=RunError("E", "v", "E: v")))


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("AttributeError", "'MultiPolygon' object has no attribute 'x'", "representative_point()"),
        ("AttributeError", "'Polygon' object has no attribute 'properties'", "gdf.iterrows()"),
        ("TypeError", "'MultiPolygon' object is not subscriptable", "gdf.iterrows()"),
        ("TypeError", "'MultiPolygon' object is not iterable", "geom.geoms"),
        ("NameError", "name 'ax' is not defined", "fig, ax = plt.subplots"),
    ],
)
def test_known_mistakes_get_one_plain_hint_after_the_error(name: str, value: str, hint: str) -> None:
    text = describe_run(RunResult(error=RunError(name, value, f"Traceback …\n{name}: {value}")))
    assert text.count("hint: ") == 1
    assert text.splitlines()[-1].startswith("hint: ") and hint in text.splitlines()[-1]


def test_other_errors_get_no_hint() -> None:
    for name, value in [("KeyError", "'name'"), ("NameError", "name 'df' is not defined"), ("ValueError", "x")]:
        assert "hint:" not in describe_run(RunResult(error=RunError(name, value, f"{name}: {value}")))
