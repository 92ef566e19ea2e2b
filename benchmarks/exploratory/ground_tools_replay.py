"""What would `ground_tools` change in finished runs? (development analysis; exact for BFCL items)

    python benchmarks/exploratory/ground_tools_replay.py [--similarity 0.2] runs/DIR [runs/DIR2 ...]

A BFCL item is one turn, so dropping the calls whose tool is unrelated to the request (rixin.calling.relevance: no
shared word, and the sentence encoder's cosine below --similarity; without it, no shared word) and judging what is
left with the bench's checker is what the option would score on the same model outputs (a text answer is all that
replaces a dropped call). Prints the items that change and accuracy
before → after per category; then asks the rule about the execution suite's own first-turn solution calls, none
of which it should drop. As in the engine, calls of tools that only read and calls on an id the request wrote are
not checked.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any

from rixin.bench.bfcl import BfclItem, load_category
from rixin.bench.checker import Call, check_item
from rixin.bench.execsuite import load_tasks
from rixin.calling.relevance import fits, names_written_ids, shares_words, tool_words


def related(request: str, name: str, function: dict[str, Any], similarity: float | None) -> bool:
    description, parameters = function.get("description", ""), function.get("parameters", {})
    if similarity is None:
        return shares_words(request, tool_words(name, description, parameters))
    return fits(request, name, description, parameters, similarity)


def replay(folders: list[str], similarity: float | None) -> None:
    before: collections.Counter[str] = collections.Counter()
    after: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    items: dict[str, dict[str, BfclItem]] = {}
    for folder in folders:
        for line in Path(folder, "items.jsonl").read_text().splitlines():
            row = json.loads(line)
            category = row["category"]
            if row.get("system", "rixin") != "rixin" or category.startswith("exec"):
                continue
            if category not in items:
                items[category] = {i.id: i for i in load_category(category)}
            item = items[category][row["id"]]
            request = "\n".join(str(m.get("content", "")) for m in item.messages if m.get("role") == "user")
            functions = {f["name"]: f for f in item.functions}
            kept = []
            for call in row["calls"]:
                function = functions.get(call["name"], {})
                written = names_written_ids(request, call["arguments"])
                if written or related(request, call["name"], function, similarity):
                    kept.append(Call(call["name"], call["arguments"]))
            verdict = check_item(category, kept, item.functions, item.gold)
            total[category] += 1
            before[category] += row["passed"]
            after[category] += verdict.passed
            if verdict.passed != row["passed"]:
                change = "fixed" if verdict.passed else "LOST"
                print(f"{change:5} {folder} {row['id']:24} kept {len(kept)} of {len(row['calls'])} calls")
    for category in sorted(total):
        n = total[category]
        print(f"{category:18} n={n:3}  {before[category] / n:6.1%} -> {after[category] / n:6.1%}")


def exec_gold(similarity: float | None) -> None:
    dropped = checked = 0
    for task in load_tasks():
        tools = {t.name: t for t in task.fresh().tools}
        for name, arguments in task.solution[0] if task.solution else []:
            tool = tools[name]
            checked += 1
            if tool.read_only or names_written_ids(task.prompt, arguments):
                continue  # not checked (as in the engine)
            function = {"description": tool.description, "parameters": tool.parameters}
            if not related(task.prompt, tool.name, function, similarity):
                dropped += 1
                print(f"exec gold dropped: {task.id} {name}")
    print(f"execution suite: {checked} first-turn solution calls, {dropped} would be dropped")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    threshold = None
    if "--similarity" in arguments:
        at = arguments.index("--similarity")
        threshold = float(arguments[at + 1])
        del arguments[at : at + 2]
    replay(arguments, threshold)
    exec_gold(threshold)
