"""Shortlisting tools: when a request comes with many tools, show the model only the few that fit it.

Every tool costs prompt tokens (60–300 each in the chat template) and gives a small model one more wrong
choice. Lexical retrieval (BM25 over each tool's name, description and parameters, against what the user
said) finds the right tool among many distractors (benchmarks/exploratory/shortlist_recall.py), costs
well under a millisecond per tool, and needs no second model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from rank_bm25 import BM25Okapi

from rixin.tools import Tool
from rixin.types import Message

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOP = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "get", "give", "how", "i", "in", "is", "it"}
    | {"me", "my", "of", "on", "or", "please", "the", "to", "what", "when", "where", "which", "who", "with", "you"}
)


def words(text: str) -> list[str]:
    """Lower-case word stems: camelCase and snake_case split, stop words dropped, cut to 6 letters so that
    'restaurants' and 'restaurant' (or 'booking' and 'book…') meet."""
    split = _CAMEL.sub(" ", text)
    return [w.lower()[:6] for w in _WORD.findall(split) if w.lower() not in _STOP]


def tool_document(tool: Tool) -> list[str]:
    parts = [tool.name, tool.name, tool.description]  # the name twice: it is the most telling part
    properties = tool.parameters.get("properties", {})
    if isinstance(properties, dict):
        for name, schema in properties.items():
            parts.append(str(name))
            if isinstance(schema, dict):
                parts.append(str(schema.get("description", "")))
                parts.extend(str(v) for v in schema.get("enum", []) if isinstance(v, str))
    return words(" ".join(parts))


def rank_tools(tools: Sequence[Tool], query: str) -> list[float]:
    """A relevance score per tool for the query (higher fits better)."""
    corpus = [tool_document(t) or ["_"] for t in tools]
    scores: Any = BM25Okapi(corpus).get_scores(words(query))
    return [float(s) for s in scores]


def shortlist(
    tools: Sequence[Tool],
    conversation: Iterable[Message],
    limit: int,
    keep: Iterable[str] = (),
    size: int | None = None,
) -> list[Tool]:
    """When there are more than `limit` tools, the best `size` of them (default: `limit`), plus those named in
    `keep` and those already called in the conversation, in their original order; else all of them."""
    if len(tools) <= limit:
        return list(tools)
    messages = list(conversation)
    query = "\n".join(m.content or "" for m in messages if m.role in ("user", "system"))
    already = {c.function.name for m in messages for c in m.tool_calls or []} | set(keep)
    scores = rank_tools(tools, query)
    best = sorted(range(len(tools)), key=lambda i: -scores[i])[: size or limit]
    chosen = set(best) | {i for i, t in enumerate(tools) if t.name in already}
    return [t for i, t in enumerate(tools) if i in chosen]
