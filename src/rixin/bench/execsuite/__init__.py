"""rixin's execution-checked tool-use suite: a model's calls run against fresh, deterministic Python APIs
(calendar, homes, trips, sheet) and the final state is compared with the state the task's solution leaves.

A run: `env = task.fresh()`; offer `env.tools` with `task.prompt`; run every call the model makes with
`env.execute(name, arguments)` (or `env.tool_message(call)`) and feed the results back until the model
answers in words; then `judge(task, env)`. Only the final state counts: extra read-only calls are fine, and
the model's closing words are not judged.
"""

from __future__ import annotations

import json
from typing import Any

from rixin.bench.checker import PASS, Verdict, check_presence, fail, normalize_string
from rixin.bench.execsuite.base import Api, ExecEnv
from rixin.bench.execsuite.tasks import API_CLASSES, EXEC_CATEGORIES, ExecTask, load_tasks

__all__ = ["API_CLASSES", "EXEC_CATEGORIES", "Api", "ExecEnv", "ExecTask", "judge", "load_tasks", "normalized"]


def normalized(value: Any) -> Any:
    """A state with every text compared the BFCL way (case, spaces and `,./-_*^` ignored) and lists of
    records put back in a fixed order afterwards (rows of the sheet keep theirs)."""
    if isinstance(value, str):
        return normalize_string(value)
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [normalized(v) for v in value]
        if items and all(isinstance(v, dict) for v in items):
            items.sort(key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return items
    return value


def _differences(path: str, got: Any, want: Any) -> list[str]:
    """Where a state differs from the expected one, one short line per difference."""
    if normalized(got) == normalized(want):
        return []
    if isinstance(got, dict) and isinstance(want, dict):
        return [line for key in {**want, **got} for line in _differences(f"{path}.{key}", got.get(key), want.get(key))]
    if isinstance(got, list) and isinstance(want, list):
        if all(isinstance(v, dict) for v in got + want):  # records: which are missing, which are extra
            have, need = [normalized(v) for v in got], [normalized(v) for v in want]
            extra = [v for v, n in zip(got, have, strict=True) if n not in need]
            missing = [v for v, n in zip(want, need, strict=True) if n not in have]
            return [f"{path}: unexpected {_short(v)}" for v in extra] + [
                f"{path}: missing {_short(v)}" for v in missing
            ]
        size = max(len(got), len(want))
        pad_got, pad_want = got + [None] * (size - len(got)), want + [None] * (size - len(want))
        return [line for i in range(size) for line in _differences(f"{path}[{i}]", pad_got[i], pad_want[i])]
    return [f"{path}: got {_short(got)}, want {_short(want)}"]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "…"


def judge(task: ExecTask, env: ExecEnv, *, unparsable: bool = False) -> Verdict:
    """Judge one run by its final state; `unparsable` says the model tried to call but could not be read."""
    calls = env.calls
    names = [name for name, _, _ in calls]
    presence = check_presence(names, wanted=task.category != "exec_irrelevance", unparsable=unparsable)
    if presence is not None:
        return presence
    expected, actual = task.expected_state(), env.state()
    if normalized(actual) == normalized(expected):
        return PASS
    lines = _differences("state", actual, expected)
    detail = "; ".join(lines[:6]) + (f"; … {len(lines) - 6} more" if len(lines) > 6 else "")
    failed = [name for name, _, ok in calls if not ok]
    if failed:
        return Verdict(
            passed=False,
            error_code="not_executable_call",
            kind="non_executable",
            detail=f"call(s) that could not run: {', '.join(failed)}; {detail}",
        )
    wanted = {name for turn in task.solution for name, _ in turn if name in env.mutating}
    made = {name for name, _, _ in calls if name in env.mutating}
    if made != wanted:
        return fail("wrong_function", f"changed state with {sorted(made)} where {sorted(wanted)} were wanted; {detail}")
    return fail("wrong_value", detail)
