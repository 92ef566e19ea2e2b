"""Retrieved few-shot examples: a library of our own verified calls, the nearest ones shown to the model.

The library (`examples.json`, written by hand for rixin; no benchmark item or paraphrase of one) pairs
requests with tools and the right calls — one call, several in parallel, or none when no tool fits or a
required value is missing. For each request the few nearest examples (BM25 over the example's request and
tools) are shown in the system prompt, written exactly as the model must write its own answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rank_bm25 import BM25Okapi

from rixin.calling.shortlist import words


@dataclass(frozen=True)
class Example:
    request: str
    tools: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    answer: str | None = None

    def signature(self) -> str:
        """The example's tools in one line each: name(param: type, …) — description."""
        lines = []
        for spec in self.tools:
            function = spec["function"]
            properties = function.get("parameters", {}).get("properties", {})
            params = ", ".join(f"{name}: {schema.get('type', 'any')}" for name, schema in properties.items())
            lines.append(f"{function['name']}({params}) — {function.get('description', '')}")
        return "\n".join(lines)


@cache
def library() -> tuple[Example, ...]:
    raw = json.loads(resources.files("rixin.calling").joinpath("examples.json").read_text(encoding="utf-8"))
    return tuple(Example(request=e["request"], tools=e["tools"], calls=e["calls"], answer=e.get("answer")) for e in raw)


@cache
def _index() -> BM25Okapi:
    return BM25Okapi([words(e.request + " " + e.signature()) or ["_"] for e in library()])


def nearest_examples(request: str, k: int) -> list[Example]:
    """The k library examples nearest to the request (fewer when nothing in the library shares a word)."""
    if k <= 0 or not library():
        return []
    scores = _index().get_scores(words(request))
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
    return [library()[i] for i in ranked[:k] if scores[i] > 0]
