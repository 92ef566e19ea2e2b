"""A yes/no relevance check replayed on a finished run's calls (tried on the 1.5B; not adopted).

    python benchmarks/exploratory/relevance_replay.py runs/DIR/items.jsonl qwen2.5-coder-1.5b

For each function a run's rixin items called (first call per function), the model is asked two ways whether
it does what the request asks, and the yes-minus-no log-odds of its next token is printed per label: IRR (an
irrelevance item: any call is wrong), WRONGFN (the wrong function), fail (failed otherwise), ok (passed).
A usable check needs IRR and WRONGFN margins below the ok ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rixin.bench.bfcl import load_category
from rixin.bench.execsuite import load_tasks
from rixin.calling import open_model
from rixin.calling.prompt import render_prompt
from rixin.tools import Tool, as_tools
from rixin.types import Message

QUESTIONS = (
    "Request: {request}\n\nFunction {name}: {description}\n\nCan this function do what the request asks, or part "
    "of it (not just something similar)? Answer only yes or no.",
    "Request: {request}\n\nCall: {name}({arguments})\nWhat {name} does: {description}\n\nDoes this call do what "
    "the request asks, or a step towards it? Answer only yes or no.",
)


def main() -> None:
    run, model_name = sys.argv[1], sys.argv[2]
    engine = open_model(model_name)
    model = engine.model
    yes = [model.tokenize(w)[0] for w in ("yes", "Yes", " yes", " Yes")]
    no = [model.tokenize(w)[0] for w in ("no", "No", " no", " No")]
    tasks = {t.id: t for t in load_tasks()}
    bfcl: dict[str, dict[str, Any]] = {}

    def request_and_tools(record: dict[str, Any]) -> tuple[str, list[Tool]]:
        if record["id"] in tasks:
            task = tasks[record["id"]]
            return task.prompt, task.fresh().tools
        category = record["category"]
        if category not in bfcl:
            bfcl[category] = {i.id: i for i in load_category(category)}
        item = bfcl[category][record["id"]]
        return item.messages[-1]["content"], as_tools(item.tools())

    def margin(text: str) -> float:
        prompt = render_prompt(model.info.chat_template, engine.family, [Message(role="user", content=text)], None)
        with model.lock:
            model._evaluate(model.tokenize(prompt), reuse_prefix=True)
            logits = model._last_logits()
        return float(np.logaddexp.reduce(logits[yes]) - np.logaddexp.reduce(logits[no]))

    rows: list[tuple[str, list[float]]] = []
    for line in Path(run).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("system", "rixin") != "rixin" or not record["calls"]:
            continue
        request, tools = request_and_tools(record)
        by_name = {t.name: t for t in tools}
        seen: set[str] = set()
        for call in record["calls"]:
            tool = by_name.get(call["name"])
            if tool is None or tool.name in seen:
                continue
            seen.add(tool.name)
            arguments = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in call["arguments"].items())
            fields = {"request": request, "name": tool.name, "description": tool.description, "arguments": arguments}
            label = (
                "IRR"
                if "irrelevance" in record["category"]
                else "WRONGFN"
                if record.get("error_code") == "wrong_function"
                else "ok"
                if record["passed"]
                else "fail"
            )
            rows.append((label, [margin(q.format(**fields)) for q in QUESTIONS]))
    for label in ("IRR", "WRONGFN", "fail", "ok"):
        found = [m for lab, m in rows if lab == label]
        if found:
            for index in range(len(QUESTIONS)):
                values = sorted(round(m[index], 2) for m in found)
                print(
                    f"{label:8} n={len(found):3} question {index + 1}: min {values[0]} median "
                    f"{values[len(values) // 2]} max {values[-1]}"
                )


if __name__ == "__main__":
    main()
