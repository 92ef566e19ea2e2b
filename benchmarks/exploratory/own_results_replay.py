"""Tried and not adopted: drop an action whose values come only from earlier actions' results (development check)

    python benchmarks/exploratory/own_results_replay.py runs/DIR [runs/DIR2 ...]
    python benchmarks/exploratory/own_results_replay.py --gold

After a tool result, the 0.5B sometimes acts on what it has just made: it books flight FL202 and then cancels
booking BK-7101, the id the booking returned. The rule replayed here: after the first call, a call to a tool that
does not say it only reads is dropped when every value grounding checks comes from the results of earlier calls
that acted, none from the request or from a lookup's result. For each execution-suite item of a run, the item's
calls are played again in a fresh environment (calls of one turn are treated as sequential) and the calls the
rule would drop are printed with the item's verdict; `--gold` asks the same of every task's own solution.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rixin.bench.execsuite import load_tasks
from rixin.calling.grounding import Context, check_grounding
from rixin.tools import Tool


def acts_on_own_results(call: tuple[str, dict[str, Any]], tool: Tool, request: str, read: list[str], made: list[str]) -> bool:
    name, arguments = call
    if tool.read_only or not (read or made):
        return False
    from_request = check_grounding(arguments, tool.parameters, Context("\n".join([request, *read])))
    from_all = check_grounding(arguments, tool.parameters, Context("\n".join([request, *read, *made])))
    return from_request.invented and from_all.complete


def replay(calls: list[tuple[str, dict[str, Any]]], task: Any) -> list[str]:
    env = task.fresh()
    tools = {t.name: t for t in env.tools}
    read: list[str] = []
    made: list[str] = []
    dropped = []
    for name, arguments in calls:
        tool = tools.get(name)
        if tool is None:
            continue
        if acts_on_own_results((name, arguments), tool, task.prompt, read, made):
            dropped.append(f"{name}({json.dumps(arguments)})")
        _, text = env.execute(name, arguments)
        (read if tool.read_only else made).append(text)
    return dropped


def main(args: list[str]) -> None:
    tasks = {task.id: task for task in load_tasks()}
    if "--gold" in args:
        for task in tasks.values():
            calls = [(name, arguments) for turn in task.solution for name, arguments in turn]
            for dropped in replay(calls, task):
                print(f"gold of {task.id}: {dropped}")
        print(f"{len(tasks)} tasks' solutions checked")
        return
    for run in args:
        for line in Path(run, "items.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            task = tasks.get(row["id"])
            if task is None or row.get("system", "rixin") != "rixin":
                continue
            for dropped in replay([(c["name"], c["arguments"]) for c in row["calls"]], task):
                print(f"{run} {row['id']} passed={row['passed']}: would drop {dropped}")


if __name__ == "__main__":
    main(sys.argv[1:])
