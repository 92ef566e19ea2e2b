"""The built-in `code_interpreter` tool: Python run in a sandboxed, stateful session.

The session starts on the first call (so an agent that never computes pays nothing) and keeps its variables
between calls. What the model reads back is short and plain: output, the value of the last line, the tail of
a traceback, new files and saved images — small models fix code far better from the last frames of a
traceback than from a page of it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from rixin.sandbox import RunResult, Sandbox
from rixin.tools.schema import Tool

TOOL_NAME = "code_interpreter"
DESCRIPTION = (
    "Run Python code in a stateful Jupyter session (variables persist between calls). The working folder is "
    "/mnt/data; files given by the user are there and files you save there are returned to the user. "
    "numpy, pandas, geopandas and matplotlib (with a Chinese font) are installed; there is no network. "
    "Print what you need to see."
)
MAX_TEXT_CHARS = 4_000
_TABLES_SNIPPET = """
def _rixin_tables():
    for name, value in list(globals().items()):
        if not name.startswith("_") and hasattr(value, "columns") and hasattr(value, "shape"):
            columns = ", ".join(map(str, list(value.columns)[:40]))
            print(f"{name}: {type(value).__name__}, {value.shape[0]} rows, columns: {columns}")
_rixin_tables()
del _rixin_tables
"""
TRACEBACK_LINES = 12
_GEOMETRY = r"'(?:Multi)?(?:Polygon|Point|LineString)'"
ERROR_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(rf"{_GEOMETRY} object has no attribute '(?:x|y)'"),
        "a polygon has no x or y: take a point inside it with geom.representative_point() (then .x and .y)",
    ),
    (
        re.compile(rf"{_GEOMETRY} object (?:has no attribute '(?![xy]')|is not subscriptable)"),
        "a shapely geometry has no columns or properties: loop over the GeoDataFrame's rows instead, "
        "`for _, row in gdf.iterrows():` then row['column'] and row.geometry",
    ),
    (
        re.compile(rf"{_GEOMETRY} object is not (?:iterable|callable)"),
        "a MultiPolygon is not a list: its parts are in geom.geoms; a point inside it is geom.representative_point()",
    ),
    (
        re.compile(r"NameError: name '(?:ax|fig)' is not defined"),
        "create the figure first, `fig, ax = plt.subplots(figsize=(10, 8))`, and draw on it with `gdf.plot(ax=ax)`",
    ),
)
"""Errors that small models repeat in data-analysis code, with the fix stated plainly. Keyed on the error
text, never on the task: each was seen repeated run after run in the flagship's traces (runs/flagship-*)."""


def describe_run(result: RunResult, max_chars: int = MAX_TEXT_CHARS) -> str:
    """The model's view of one run: compact, with the error last so it is what the model reads freshest."""
    parts: list[str] = []
    if result.stdout.strip():
        parts.append("stdout:\n" + _tail(result.stdout, max_chars))
    if result.results:
        parts.append("result:\n" + _tail("\n".join(result.results), max_chars // 2))
    if result.stderr.strip() and result.error is None:
        parts.append("stderr:\n" + _tail(result.stderr, max_chars // 2))
    if result.files:
        parts.append("files written: " + ", ".join(f"/mnt/data/{name}" for name in result.files))
    if result.images:
        parts.append(f"{len(result.images)} image(s) displayed")
    if result.timed_out:
        parts.append("error: the code ran past its time limit and was stopped")
    if result.error is not None:
        lines = result.error.traceback.strip().splitlines()[-TRACEBACK_LINES:]
        parts.append("error:\n" + "\n".join(lines) if lines else f"error: {result.error.name}: {result.error.value}")
        error_text = f"{result.error.name}: {result.error.value}\n{result.error.traceback}"
        parts.extend(f"hint: {hint}" for pattern, hint in ERROR_HINTS if pattern.search(error_text))
    return "\n".join(parts) if parts else "(the code ran without output)"


def _tail(text: str, limit: int) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else "[…]\n" + text[-limit:]


class CodeInterpreter:
    """Owns one sandbox session for one conversation or agent run, and the tool that runs code in it."""

    def __init__(self, open_session: Callable[[], Sandbox]) -> None:
        self._open_session = open_session
        self._session: Sandbox | None = None
        self._lock = threading.Lock()
        self.runs: list[RunResult] = []
        self.codes: list[str] = []
        """The code of every run, in order (parallel to `runs`)."""

    @property
    def session(self) -> Sandbox:
        with self._lock:
            if self._session is None:
                self._session = self._open_session()
            return self._session

    def run(self, code: str) -> str:
        """Run Python code in the session.

        Args:
            code: the Python code to run; the value of its last line is shown.
        """
        session = self.session
        result = session.run(code)
        self.codes.append(code)
        self.runs.append(result)
        text = describe_run(result)
        if result.error is not None and not result.timed_out:
            # Most failed analysis code names a column or variable that is not there: show what is.
            tables = session.run(_TABLES_SNIPPET, timeout_s=5)
            if tables.ok and tables.stdout.strip():
                text = f"tables defined now:\n{tables.stdout.strip()[:1500]}\n{text}"
        return text

    @property
    def tool(self) -> Tool:
        return Tool(
            name=TOOL_NAME,
            description=DESCRIPTION,
            parameters={
                "type": "object",
                "properties": {"code": {"type": "string", "description": "Python code to run"}},
                "required": ["code"],
                "additionalProperties": False,
            },
            function=self.run,
        )

    def upload(self, source: Path | str, name: str | None = None) -> str:
        return self.session.upload_file(source, name)

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None
