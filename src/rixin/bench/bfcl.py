"""BFCL v4 data, read from the pinned `bfcl-eval` wheel's data files (the package itself is never imported:
its declared dependencies are not installed)."""

from __future__ import annotations

import importlib.util
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rixin.errors import RixinError

BFCL_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")
BFCL_PACKAGE = "bfcl-eval==2026.3.23"

# BFCL writes its own type names; the model sees JSON Schema.
_TYPES = {
    "dict": "object",
    "float": "number",
    "tuple": "array",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
    "number": "number",
}


@dataclass(frozen=True)
class BfclItem:
    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    """The functions as BFCL gives them (BFCL types: used by the checker)."""
    gold: list[dict[str, dict[str, list[Any]]]] | None
    """`[{name: {param: [accepted values…]}}, …]`; None for irrelevance (pass iff no call)."""

    def tools(self) -> list[dict[str, Any]]:
        """The functions as OpenAI tool dicts with JSON Schema parameters."""
        return [
            {
                "type": "function",
                "function": {
                    "name": f["name"],
                    "description": f.get("description", ""),
                    "parameters": to_json_schema(f.get("parameters") or {"type": "dict", "properties": {}}),
                },
            }
            for f in self.functions
        ]


def to_json_schema(node: Any) -> Any:
    """Convert a BFCL parameter schema to JSON Schema (types renamed, `any` unconstrained, `optional` dropped)."""
    if isinstance(node, list):
        return [to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            if value != "any":
                out["type"] = _TYPES.get(value, value)
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = to_json_schema(value)
        elif key == "optional":
            continue
        else:
            out[key] = value
    return out


def data_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise RixinError(f"BFCL data is not installed: pip install --no-deps {BFCL_PACKAGE} (make setup does)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_category(category: str) -> list[BfclItem]:
    if category not in BFCL_CATEGORIES:
        raise RixinError(f"unknown BFCL category {category!r}; valid: {', '.join(BFCL_CATEGORIES)}")
    root = data_dir()
    questions = _read_jsonl(root / f"BFCL_v4_{category}.json")
    answers: dict[str, Any] = {}
    if category != "irrelevance":
        answers = {
            a["id"]: a["ground_truth"] for a in _read_jsonl(root / "possible_answer" / f"BFCL_v4_{category}.json")
        }
    items = []
    for question in questions:
        turns = question["question"]
        items.append(
            BfclItem(
                id=question["id"],
                category=category,
                messages=list(turns[0]),
                functions=list(question["function"]),
                gold=answers.get(question["id"]) if category != "irrelevance" else None,
            )
        )
    return items


DISTRACTOR_SOURCES = ("simple_python", "multiple", "parallel", "parallel_multiple")
"""Where padding functions come from: the categories whose functions were written to be called."""


def distractor_pool() -> list[dict[str, Any]]:
    """Every function of the source categories, once per name (the first one met), in a fixed order."""
    pool: dict[str, dict[str, Any]] = {}
    for category in DISTRACTOR_SOURCES:
        for item in load_category(category):
            for function in item.functions:
                pool.setdefault(function["name"], function)
    return list(pool.values())


def with_distractors(item: BfclItem, tools: int, pool: list[dict[str, Any]], seed: int) -> BfclItem:
    """The item with its functions padded to `tools` by functions of other items, the item's own placed among
    them at random (the same for the same seed and item). BFCL offers at most a handful of functions per item;
    real requests bring dozens, which is where shortlisting acts. Irrelevance items are left as they are: a
    function from elsewhere may answer their question."""
    if item.category == "irrelevance" or len(item.functions) >= tools:
        return item
    rng = random.Random(f"{seed}:{item.id}:tools")
    own = {f["name"] for f in item.functions}
    candidates = [f for f in pool if f["name"] not in own]
    chosen = rng.sample(candidates, min(tools - len(item.functions), len(candidates)))
    functions = list(item.functions)
    for function in chosen:
        functions.insert(rng.randrange(len(functions) + 1), function)
    return replace(item, functions=functions)
