"""Run chosen BFCL items again, alone, on today's code (development check)

    python benchmarks/exploratory/rerun_items.py MODEL [KEY=VALUE ...] ID [ID ...]

One process, one model load; each item goes through `Engine.chat` with the model's defaults (changed by any
KEY=VALUE engine options) and is judged by the bench's checker. Prints one JSON line per item: passed, error
code, seconds, calls. An item run alone has no KV prefix from the item before it (a full run does,
docs/results.md §22), so its output can differ from a run's for that reason too.
"""

from __future__ import annotations

import json
import sys
import time

from rixin.bench.bfcl import BfclItem, load_category
from rixin.bench.checker import Call, check_item
from rixin.calling import open_model
from rixin.calling.options import tuned_options
from rixin.cli.bench import parse_engine_options


def main(model: str, arguments: list[str]) -> None:
    changes = parse_engine_options([a for a in arguments if "=" in a])
    engine = open_model(model, tuned_options(model, **changes))
    categories: dict[str, dict[str, BfclItem]] = {}
    for item_id in (a for a in arguments if "=" not in a):
        category = item_id.rsplit("_", 1)[0]
        if category not in categories:
            categories[category] = {item.id: item for item in load_category(category)}
        item = categories[category][item_id]
        started = time.perf_counter()
        result = engine.chat(item.messages, tools=item.tools())
        calls = [Call(c.function.name, json.loads(c.function.arguments)) for c in result.message.tool_calls or []]
        verdict = check_item(category, calls, item.functions, item.gold)
        row = {
            "id": item_id,
            "passed": verdict.passed,
            "error_code": verdict.error_code,
            "detail": verdict.detail[:200],
            "seconds": round(time.perf_counter() - started, 2),
            "calls": [[call.name, call.arguments] for call in calls],
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
