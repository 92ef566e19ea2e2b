"""Does a tool have anything to do with the request? A lexical check, then a semantic one.

A small model asked something no tool does calls the nearest tool with the request's own values: "the time
difference between two cities" becomes two coordinate look-ups of those cities, "the traffic in a city" a geocoding
of it. The values are grounded (the user gave them), so `rixin.calling.grounding` keeps such calls. What gives them
away is that nothing the request says about *what it wants* is in the tool: its name, its description, its
parameters' names, descriptions and options share no word with the request. A tool that fits shares at least one
("the fastest route" and a `route_type` option "fastest"; "convert" and a converter).

Two kinds of call are not checked: a tool that only reads (a lookup serves another end: "cancel whatever I have at
12:30" needs the day's events listed), and a call on an id or address the request wrote ("put 0 in B4": B4 says
which tool, "change" is not in "write_cell").

Words are not meanings: "Is it raining in Dublin?" shares no word with `get_weather`, "Rock concerts in Oslo?" none
with `find_events`. So a tool that shares no word is unrelated only when a sentence encoder
(rixin.models.embedding) also finds its name and description far from the request (cosine below a threshold,
0.15 by default: 0.27 and 0.33 for those two, 0.18 for "Do I need an umbrella in Oslo?"; −0.01 to 0.11 for the
1.5B's irrelevant calls it catches, docs/results.md §25).

Words are compared by their first four letters (a crude stem: "bookings" and "book", "rights" and "right"); verbs
every tool could be said to do ("get", "find", "calculate") and function words do not count. A question word
stands for what it asks ("when" for a date or time, "how many" for a number or an amount). The check needs the
request in the tools' script: a request mostly in other letters (Chinese) is not checked at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rixin.calling.grounding import IDENTIFIER
from rixin.calling.shortlist import clauses
from rixin.models.embedding import EncoderMissingError, sentence_encoder
from rixin.tools import Tool

_log = logging.getLogger(__name__)

_LATIN_WORD = re.compile(r"[a-z]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_STEM = 4
_MIN_LATIN_SHARE = 0.9
"""A request whose letters are less Latin than this is not checked (its words cannot match English tools)."""
_IGNORED = frozenset(
    {
        *("the", "a", "an", "of", "in", "on", "for", "to", "and", "or", "is", "are", "was", "what", "how", "which"),
        *("who", "whom", "with", "by", "from", "at", "as", "be", "it", "its", "this", "that", "my", "me", "i"),
        *("you", "your", "get", "find", "calculate", "given", "specific"),
    }
)
"""Function words and verbs every tool does, which say nothing about which tool fits."""
_QUESTION_WORDS = {
    r"\bwhen\b": "date time day year",
    r"\bwhere\b": "location place address",
    r"\bwho\b": "person name",
    r"\bhow (?:many|much)\b": "number count amount total quantity",
    r"\bhow (?:long|far)\b": "distance duration length time",
}
"""What a question word asks for, in the words a tool would use for it."""


def _stems(text: str) -> set[str]:
    spaced = _CAMEL.sub(r"\1 \2", text).replace("_", " ").replace(".", " ").lower()
    return {word[:_STEM] for word in _LATIN_WORD.findall(spaced) if len(word) >= 3 and word not in _IGNORED}


def _schema_text(schema: Any) -> str:
    """Every property name, description and enum option in a JSON Schema, nested ones too."""
    if isinstance(schema, dict):
        parts = [str(schema.get("description", "")), " ".join(str(option) for option in schema.get("enum", []))]
        properties = schema.get("properties")
        if isinstance(properties, dict):
            parts.extend(f"{name} {_schema_text(value)}" for name, value in properties.items())
        parts.append(_schema_text(schema.get("items")))
        return " ".join(parts)
    return ""


@lru_cache(maxsize=256)
def _request_stems(request: str) -> frozenset[str] | None:
    """The request's word stems and what its question words ask for; None when it is not in Latin script."""
    letters = [char for char in request if char.isalpha()]
    latin = sum(1 for char in letters if char.isascii())
    if not letters or latin / len(letters) < _MIN_LATIN_SHARE:
        return None
    stems = _stems(request)
    lowered = request.lower()
    for question, asks_for in _QUESTION_WORDS.items():
        if re.search(question, lowered):
            stems |= _stems(asks_for)
    return frozenset(stems)


def tool_words(name: str, description: str, parameters: dict[str, Any]) -> frozenset[str]:
    """The word stems of a tool: its name, its description, and its parameters' names, descriptions, options."""
    return frozenset(_stems(f"{name} {description} {_schema_text(parameters)}"))


_ID_IN_TEXT = re.compile(r"\b" + IDENTIFIER.pattern)
"""An id or address ("B4", "FL101", "HT-MAD-1") within a text: grounding's pattern, at a word's start."""


def names_written_ids(request: str, arguments: dict[str, Any]) -> bool:
    """Whether an argument holds an id or address that the request wrote ("B2" of "B2:B7")."""
    written = {found.lower() for found in _ID_IN_TEXT.findall(request)}
    stack: list[Any] = [arguments]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and any(f.lower() in written for f in _ID_IN_TEXT.findall(value)):
            return True
    return False


def shares_words(request: str, tool_stems: frozenset[str]) -> bool:
    """Whether the request says anything the tool is about (True when the request cannot be checked)."""
    stems = _request_stems(request)
    return stems is None or not stems or bool(stems & tool_stems)


def tools_sharing_words(text: str, tools: Sequence[Tool]) -> list[Tool] | None:
    """The tools that share a word stem with the text (None when the text is not in Latin script)."""
    stems = _request_stems(text)
    if stems is None:
        return None
    return [t for t in tools if stems & tool_words(t.name, t.description, t.parameters)]


def best_tool_for(text: str, tools: Sequence[Tool], min_shared: int = 2) -> Tool | None:
    """The one tool sharing the most word stems with the text, at least `min_shared` of them (None on a tie, when
    none shares that many, or when the text is not in Latin script). One shared word is too weak a sign ("provide"
    in the description of a chess club finder)."""
    stems = _request_stems(text)
    if not stems:
        return None
    shared = sorted(((len(stems & tool_words(t.name, t.description, t.parameters)), i) for i, t in enumerate(tools)))
    if not shared or shared[-1][0] < min_shared or (len(shared) > 1 and shared[-2][0] == shared[-1][0]):
        return None
    return tools[shared[-1][1]]


def one_clause_tool(request: str, used: Sequence[Tool]) -> Tool | None:
    """Where a request of one clause (`shortlist.clauses`) got calls of several tools: the one of them that fits it
    best in words (`best_tool_for`; None when the request has more clauses, fewer tools were used, or no tool
    stands out). A small model adds a call of a neighbouring tool with the same values."""
    if len(used) < 2 or len(clauses(request)) != 1:
        return None
    return best_tool_for(request, used)


def tool_text(name: str, description: str) -> str:
    """A tool as one sentence for the encoder: its name in words, then its description."""
    return re.sub(r"[._]", " ", name) + ": " + description


def fits(request: str, name: str, description: str, parameters: dict[str, Any], min_similarity: float) -> bool:
    """Whether a tool may serve the request: it shares a word with it, or the encoder finds its name and
    description at least `min_similarity` close to it (True when the request cannot be checked, or the encoder is
    not installed)."""
    if shares_words(request, tool_words(name, description, parameters)):
        return True
    try:
        encoder = sentence_encoder()
    except EncoderMissingError as missing:
        _log.warning("tool relevance by words only is too strict; keeping the call: %s", missing)
        return True
    return encoder.similarity(request, tool_text(name, description)) >= min_similarity
