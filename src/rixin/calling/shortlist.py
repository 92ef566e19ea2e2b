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
_HAN = re.compile(r"([\u4e00-\u9fff]+)")
# Where one request asks for several things: sentence ends, semicolons and the words that join tasks, in English
# and Chinese ("Find the weather in Oslo, and convert 100 USD to NOK"; "查一下天气，然后换算汇率").
_CLAUSE_BREAK = re.compile(
    r"(?<=[.?!;])\s+|[。！？；\n]+|,?\s+(?:and then|then|and also|also|as well as|and|plus)\s+"
    r"|然后|并且|同时|另外|，再",
    re.IGNORECASE,
)
_STOP = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "get", "give", "how", "i", "in", "is", "it"}
    | {"me", "my", "of", "on", "or", "please", "the", "to", "what", "when", "where", "which", "who", "with", "you"}
)


def words(text: str) -> list[str]:
    """Lower-case word stems: camelCase and snake_case split, stop words dropped, cut to 6 letters so that
    'restaurants' and 'restaurant' (or 'booking' and 'book…') meet. Chinese, written without spaces, becomes
    overlapping character pairs ("查询天气" → 查询, 询天, 天气), so that "天气" in a request meets "天气" in a
    tool's description."""
    found: list[str] = []
    for token in _WORD.findall(_HAN.sub(r" \1 ", _CAMEL.sub(" ", text))):
        if _HAN.fullmatch(token):
            found.extend(token[i : i + 2] for i in range(max(1, len(token) - 1)))
        elif token.lower() not in _STOP:
            found.append(token.lower()[:6])
    return found


def clauses(text: str, min_words: int = 2) -> list[str]:
    """The parts of a request that may each ask for a different tool; parts of fewer than `min_words` content words
    ("and", "then do it") are dropped."""
    return [part for part in _CLAUSE_BREAK.split(text) if len(words(part)) >= min_words]


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
    per_clause: int = 0,
) -> list[Tool]:
    """When there are more than `limit` tools, the best `size` of them (default: `limit`) for the whole request,
    the best `per_clause` for each clause of the user's last message, plus those named in `keep` and those
    already called in the conversation, in their original order; else all of them.

    Ranking each clause on its own finds the tool for a request's second task, which the whole request's ranking
    puts below tools that share words with its first."""
    if len(tools) <= limit:
        return list(tools)
    messages = list(conversation)
    query = "\n".join(m.content or "" for m in messages if m.role in ("user", "system"))
    already = {c.function.name for m in messages for c in m.tool_calls or []} | set(keep)
    chosen = set(_best(rank_tools(tools, query), size or limit))
    asked = next((m.content or "" for m in reversed(messages) if m.role == "user"), "")
    parts = clauses(asked) if per_clause else []
    for part in parts if len(parts) > 1 else []:
        chosen |= set(_best(rank_tools(tools, part), per_clause, scored_only=True))
    chosen |= {i for i, t in enumerate(tools) if t.name in already}
    return [t for i, t in enumerate(tools) if i in chosen]


def _best(scores: Sequence[float], count: int, scored_only: bool = False) -> list[int]:
    """Indices of the `count` highest scores, ties in the original order (with `scored_only`, none that share
    no word with the query)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])[:count]
    return [i for i in order if scores[i] > 0] if scored_only else order
