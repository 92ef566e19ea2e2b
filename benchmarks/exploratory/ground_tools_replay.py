"""What would `ground_tools` change in finished runs? (development analysis; exact for BFCL items)

    python benchmarks/exploratory/ground_tools_replay.py [--similarity 0.2] runs/DIR [runs/DIR2 ...]
    python benchmarks/exploratory/ground_tools_replay.py --cosines runs/DIR   # the cosines of irrelevant calls

A BFCL item is one turn, so dropping the calls whose tool is unrelated to the request (rixin.calling.relevance: no
shared word, and the sentence encoder's cosine below --similarity; without it, no shared word) and judging what is
left with the bench's checker is what the option would score on the same model outputs (a text answer is all that
replaces a dropped call). Prints the items that change and accuracy
before → after per category; then asks the rule about the execution suite's own first-turn solution calls, none
of which it should drop. As in the engine, calls of tools that only read and calls on an id the request wrote are
not checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bfcl_replay import replay_bfcl
from rixin.bench.bfcl import BfclItem, load_category
from rixin.bench.checker import Call
from rixin.bench.execsuite import load_tasks
from rixin.calling.relevance import fits, names_written_ids, shares_words, tool_text, tool_words
from rixin.models.embedding import sentence_encoder


def related(request: str, name: str, function: dict[str, Any], similarity: float | None) -> bool:
    description, parameters = function.get("description", ""), function.get("parameters", {})
    if similarity is None:
        return shares_words(request, tool_words(name, description, parameters))
    return fits(request, name, description, parameters, similarity)


def replay(folders: list[str], similarity: float | None) -> None:
    def kept_calls(row: dict[str, Any], item: BfclItem) -> list[Call]:
        request = "\n".join(str(m.get("content", "")) for m in item.messages if m.get("role") == "user")
        functions = {f["name"]: f for f in item.functions}
        return [
            Call(call["name"], call["arguments"])
            for call in row["calls"]
            if names_written_ids(request, call["arguments"])
            or related(request, call["name"], functions.get(call["name"], {}), similarity)
        ]

    replay_bfcl(folders, kept_calls, label_by_folder=True)


def irrelevance_cosines(folders: list[str]) -> None:
    """`--cosines`: each logged call of an irrelevance item whose tool shares no word with the request, with the
    encoder's cosine (what `tool_similarity` is compared against), lowest first."""
    found: list[tuple[float, str, str]] = []
    calls = 0
    items = {i.id: i for i in load_category("irrelevance")}
    for folder in folders:
        for line in Path(folder, "items.jsonl").read_text().splitlines():
            row = json.loads(line)
            if row["category"] != "irrelevance" or row.get("system", "rixin") != "rixin":
                continue
            item = items[row["id"]]
            request = "\n".join(str(m.get("content", "")) for m in item.messages if m.get("role") == "user")
            functions = {f["name"]: f for f in item.functions}
            calls += len(row["calls"])
            for call in row["calls"]:
                function = functions.get(call["name"], {})
                description = function.get("description", "")
                if not shares_words(request, tool_words(call["name"], description, function.get("parameters", {}))):
                    cosine = sentence_encoder().similarity(request, tool_text(call["name"], description))
                    found.append((cosine, row["id"], call["name"]))
    print(f"irrelevance calls: {calls}; sharing no word with the request: {len(found)}")
    for cosine, item_id, name in sorted(found):
        print(f"{cosine:6.3f}  {item_id:20} {name}")


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
    if "--cosines" in arguments:
        irrelevance_cosines([a for a in arguments if a != "--cosines"])
        sys.exit()
    replay(arguments, threshold)
    exec_gold(threshold)
