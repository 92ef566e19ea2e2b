"""What would `one_tool_per_clause` change in finished runs? (development analysis)

    python benchmarks/exploratory/one_tool_replay.py runs/DIR [runs/DIR2 ...]

BFCL items (one turn, so exact): keeps each row's calls of the tool `rixin.calling.relevance.one_clause_tool`
picks, re-judges with the bench's checker, prints the items that change and accuracy before → after.
Execution-suite items: the rule acts only on a request's first turn, so a task whose first turn (its log up to the
first "===") ends with calls of one tool besides tools that only read, or whose request has several clauses,
plays exactly as logged; the script lists the tasks where the rule could act (those need a run; the calls it
reads are those before grounding, so the list may hold tasks where grounding had dropped the call already).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from bfcl_replay import replay_bfcl

from rixin.bench.bfcl import BfclItem
from rixin.bench.checker import Call
from rixin.bench.execsuite import ExecTask, load_tasks
from rixin.calling.relevance import one_clause_tool
from rixin.tools import tool_from_openai

_NAME = re.compile(r'"name":\s*"([^"]+)"')


def kept(row: dict[str, Any], item: BfclItem) -> list[Call]:
    said = "\n".join(str(m.get("content", "")) for m in item.messages if m.get("role") == "user")
    names = list(dict.fromkeys(c["name"] for c in row["calls"]))
    used = [tool_from_openai(t) for t in item.tools() if t["function"]["name"] in names]
    best = one_clause_tool(said, used)
    return [Call(c["name"], c["arguments"]) for c in row["calls"] if best is None or c["name"] == best.name]


def exec_tasks_it_could_change(folder: str, tasks: dict[str, ExecTask]) -> list[str]:
    could = []
    for line in Path(folder, "items.jsonl").read_text().splitlines():
        row = json.loads(line)
        if not row["category"].startswith("exec"):
            continue
        task = tasks[row["id"]]
        first_turn = row["raw_output"].split("\n===\n")[0]
        last_calls = first_turn.rsplit("<tool_call>", 1)[-1] if "<tool_call>" in first_turn else ""
        names = set(_NAME.findall(last_calls))
        offered = {t.name: t for t in task.fresh().tools}
        best = one_clause_tool(task.prompt, [offered[n] for n in sorted(names) if n in offered])
        if best is not None and any(n != best.name and n in offered and not offered[n].read_only for n in names):
            could.append(row["id"])
    return could


if __name__ == "__main__":
    replay_bfcl(sys.argv[1:], kept)
    tasks = {t.id: t for t in load_tasks()}
    for folder in sys.argv[1:]:
        print(folder, "execution tasks whose first turn the rule could change:", exec_tasks_it_could_change(folder, tasks))
