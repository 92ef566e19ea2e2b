"""Play chosen execution-suite tasks again, alone, on today's code (development check)

    python benchmarks/exploratory/rerun_exec.py MODEL [KEY=VALUE ...] ID [ID ...]

One process, one model load; each task is played by the bench's own loop (`rixin bench`'s plain loop) with the
model's defaults changed by any KEY=VALUE engine options, and judged by the suite's checker. Prints one JSON line
per task: passed, error kind, seconds, calls. A task played alone has no KV prefix from the task before it, so
its output can differ from a full run's for that reason too (docs/results.md §22).
"""

from __future__ import annotations

import json
import sys
import time

from rixin.bench.execsuite import load_tasks
from rixin.bench.runner import _exec_entry
from rixin.bench.systems import RixinSystem
from rixin.calling import open_model
from rixin.calling.options import tuned_options
from rixin.cli.bench import parse_engine_options


def main(model: str, arguments: list[str]) -> None:
    changes = parse_engine_options([a for a in arguments if "=" in a])
    engine = open_model(model, tuned_options(model, **changes))
    system = RixinSystem(engine)
    tasks = {task.id: task for task in load_tasks()}
    for task_id in (a for a in arguments if "=" not in a):
        started = time.perf_counter()
        verdict, turns = _exec_entry(tasks[task_id]).run(system)
        row = {
            "id": task_id,
            "passed": verdict.passed,
            "kind": verdict.kind,
            "detail": verdict.detail[:200],
            "seconds": round(time.perf_counter() - started, 2),
            "calls": [[call.name, call.arguments] for turn in turns for call in turn.calls],
        }
        print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
