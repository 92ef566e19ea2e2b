"""Are a call's argument values found in the conversation, or did the model invent them?

Small models call a tool for nearly every request, even when no tool fits: asked for a country's population
with only `calculate_bmi` at hand, Qwen2.5-Coder-0.5B calls it with `weight=70, height=1.75`. The values of
such a call come from nowhere. A call that fits takes its values from the request (or from earlier tool
results): a city the user named, a number they gave. This module scores that, leniently: a value counts as
grounded when any of its words or numbers occurs in the conversation.

Only entity-like values are checked: numbers and short strings of required parameters. Enums and booleans
are choices, not facts; long strings (a query, a message, code) are composed by the model, not copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*(k|m|bn|b|thousand|million|billion)\b")
_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_CODE = re.compile(r"[A-Z]{2,4}")
"""An upper-case code (a currency, a state, an airport): derived from a name, not copied from the request."""
_ABBREVIATION = re.compile(r"[a-z]{2,3}")
"""A unit or short form in lower case ("km", "mi", "kg"): written for a word of the request, not copied."""
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z_-]*\d[\w-]*")
"""An id: letters, then a digit somewhere ("FL101", "HT-MAD-1", "e3"). An id is copied whole or invented; none of
its parts stands for it ("HT-MAD-1" is not in "Madrid")."""
_MAX_ENTITY_WORDS = 4
_COMPOSED = re.compile(r"[(){}\[\];=\n]|\b(?:def|import|select|print)\b", re.IGNORECASE)
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000,
    "dozen": 12, "half": 0.5, "quarter": 0.25, "double": 2, "twice": 2, "triple": 3, "once": 1,
    "first": 1, "second": 2, "third": 3, "single": 1, "pair": 2, "couple": 2, "week": 7, "weekly": 7, "hour": 60,
}  # fmt: skip
_CHINESE_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_HOURS = re.compile(r"(\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|half an?)\s*(?:hours?|hrs?|小时)")
"""A duration in hours, which tools usually take in minutes ("two hours" → 120)."""
_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")
_STOP = {"the", "and", "for", "with", "from", "that", "this", "into", "over", "per", "are", "was", "its", "his"}


@dataclass(frozen=True)
class Grounding:
    checked: int
    """How many values were checked (0: nothing entity-like to check, e.g. only enums or code)."""
    missing: list[str]
    """The checked values not found in the conversation."""

    @property
    def complete(self) -> bool:
        """Every checked value was found."""
        return not self.missing

    @property
    def invented(self) -> bool:
        """Every checked value is missing: the call rests on nothing the conversation says."""
        return self.checked > 0 and len(self.missing) == self.checked


class Context:
    """The words and numbers of a conversation, indexed for lookups."""

    def __init__(self, text: str) -> None:
        lowered = text.lower()
        self.initials = "".join(" " if w.isdigit() else w[0] for w in _WORD.findall(lowered))
        """The first letters of the words in order (a number breaks them): "electric vehicle" gives "ev"."""
        self.words = set(_WORD.findall(lowered))
        self.tokens = set(re.findall(r"[\w-]+", lowered))
        self.capitals = set(re.findall(r"(?<![A-Za-z])[AI](?![A-Za-z])", text))
        """"A" and "I" standing alone as written: lower-cased they are an article and a pronoun."""
        self.stems = {w[:5] for w in self.words if len(w) >= 5}
        self.prefixes = {w[:n] for w in self.words for n in range(3, min(len(w), 5))}
        numbers: set[float] = set()
        plain = _THOUSANDS.sub("", lowered)
        for found in _NUMBER.findall(plain):
            numbers |= _number_forms(float(found))
        self.whole_parts = {int(float(found)) for found in _NUMBER.findall(plain)}  # 9.30 → 9 o'clock
        for found, scale in _SCALED.findall(plain):
            numbers |= _number_forms(float(found) * _SCALES[scale])
        for word in self.words & _NUMBER_WORDS.keys():
            numbers |= _number_forms(float(_NUMBER_WORDS[word]))
        for char in set(text) & _CHINESE_NUMERALS.keys():
            numbers |= _number_forms(float(_CHINESE_NUMERALS[char]))
        for amount in _HOURS.findall(plain):
            hours = float(amount) if amount[0].isdigit() else 0.5 if amount.startswith("half") else _hour_word(amount)
            numbers.add(round(hours * 60, 6))
        self.numbers = numbers

    def has_number(self, value: float) -> bool:
        # A sign is often written apart from the number or in words ("5x^2 - 7x", "minus 7", "7 below zero").
        return round(value, 6) in self.numbers or round(abs(value), 6) in self.numbers

    def has_text(self, value: str) -> bool:
        if value.strip() in ("A", "I"):  # column "A" is not in "make a chart"
            return value.strip() in self.capitals
        if IDENTIFIER.fullmatch(value.strip()):
            return value.strip().lower() in self.tokens
        if _ABBREVIATION.fullmatch(value.strip()) and self._abbreviates(value.strip()):
            return True
        clock = _TIME_OF_DAY.fullmatch(value.strip())
        if clock:  # 15:00 for "3pm" or "下午3点": the hour, on either clock
            hour = int(clock.group(1))
            hours = {hour, hour - 12} if hour > 12 else {hour}
            return any(self.has_number(h) or h in self.whole_parts for h in hours)
        every = _WORD.findall(value.lower())
        words = [w for w in every if w not in _STOP] or every
        for word in words:
            if word in self.words or (word[:5] in self.stems if len(word) >= 5 else word in self.prefixes):
                return True
            if _NUMBER.fullmatch(word) and self.has_number(float(word)):
                return True
        return not words  # nothing to look for (punctuation only)

    def has_word(self, word: str) -> bool:
        """Whether a lower-case word is one of the conversation's, or shares its first five letters with one (a
        shorter word: begins one)."""
        return word in self.words or (word[:5] in self.stems if len(word) >= 5 else word in self.prefixes)

    def has_close_word(self, value: str) -> bool:
        """Whether a word of `value` begins as one of the conversation's words does (their first three letters)."""
        return any(len(w) >= 3 and w[:3] in self.prefixes for w in _words_of(value))

    def has_initials(self, short: str) -> bool:
        """Whether consecutive words of the conversation begin with the letters of `short` ("EV")."""
        return len(short) >= 2 and short.lower() in self.initials

    def _abbreviates(self, short: str) -> bool:
        """Whether a word of the conversation starts with the abbreviation's first letter and holds the others in
        order: "km" for kilometers, "mi" for miles, "hrs" for hours."""
        rest = short[1:]
        for word in self.words:
            if word[0] == short[0] and len(word) > len(short):
                letters = iter(word[1:])
                if all(char in letters for char in rest):
                    return True
        return False


def _hour_word(word: str) -> float:
    return 1.0 if word in ("a", "an") else float(_NUMBER_WORDS.get(word, 1))


def _number_forms(number: float) -> set[float]:
    """A number as written, and as the same quantity in the other usual scale (5% = 0.05, 1.5k = 1500)."""
    return {round(number, 6), round(number / 100, 6), round(number * 100, 6), round(number * 1000, 6)}


def check_grounding(arguments: dict[str, Any], schema: dict[str, Any], context: Context) -> Grounding:
    """Which entity-like values of a call's required arguments the conversation does not contain."""
    checked: list[str] = []
    missing: list[str] = []

    def visit(value: Any, node: dict[str, Any], in_list: bool = False) -> None:
        if not isinstance(node, dict) or "enum" in node or "const" in node or isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            # A count of 0 or 1 is implied by the wording ("a flight", "no minimum"); in a list it is data (the
            # 0.5B called a distance tool with [0, 0] and [1, 1] for an equation's roots).
            if value in (0, 1) and not in_list:
                return
            checked.append(str(value))
            if not context.has_number(float(value)):
                missing.append(str(value))
        elif isinstance(value, str):
            if not value.strip() or len(value.split()) > _MAX_ENTITY_WORDS or _COMPOSED.search(value):
                return
            if _CODE.fullmatch(value.strip()):
                return
            checked.append(value)
            if not context.has_text(value):
                missing.append(value)
        elif isinstance(value, list):
            items = node.get("items", {})
            before = len(missing)
            for element in value:
                visit(element, items if isinstance(items, dict) else {}, in_list=True)
            # A list is grounded when any of its elements is: the rest may be the model's fair completion.
            if len(missing) - before < len(value):
                del missing[before:]
        elif isinstance(value, dict):
            visit_object(value, node)

    def visit_object(values: dict[str, Any], node: dict[str, Any]) -> None:
        properties = node.get("properties", {})
        for name in node.get("required", []):
            if name in values and isinstance(properties, dict):
                visit(values[name], properties.get(name, {}))

    visit_object(arguments, schema)
    return Grounding(checked=len(checked), missing=missing)


def drop_ungrounded_optional(arguments: dict[str, Any], schema: dict[str, Any], context: Context) -> dict[str, Any]:
    """The arguments less the optional ones whose entity-like value the conversation never gave: a small model
    fills optional parameters with guesses (`season="2023"`, `category="Physics"`) where the user said
    nothing, and the tool's own default is the better choice."""
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    if not isinstance(properties, dict):
        return arguments
    kept: dict[str, Any] = {}
    for name, value in arguments.items():
        if name not in required and name in properties:
            probe = {"type": "object", "properties": {name: properties[name]}, "required": [name]}
            if check_grounding({name: value}, probe, context).missing:
                continue
        kept[name] = value
    return kept


def _words_of(value: str) -> list[str]:
    every = _WORD.findall(value.lower())
    return [w for w in every if w not in _STOP] or every


def without_unsaid_options(arguments: dict[str, Any], schema: dict[str, Any], context: Context) -> dict[str, Any]:
    """The arguments with each list of enum choices cut to the choices the conversation names and those close to
    its words, where it names at least one whole: a small model lists every choice the schema offers
    (`toppings: ["olives", "peppers", "onions", "extra cheese"]` for "a pizza with olives"). Named: every word of
    the choice is one of the conversation's (`Context.has_word`). Close: a word of the choice begins with the
    first three letters of one of its words ("Parking" for "a place to park") — kept, the user may have meant it.
    A list with no choice named whole is kept as it is."""
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return arguments
    trimmed = dict(arguments)
    for name, value in arguments.items():
        node = properties.get(name)
        items = node.get("items") if isinstance(node, dict) else None
        if not isinstance(value, list) or len(value) < 2 or not isinstance(items, dict) or "enum" not in items:
            continue
        choices = [v for v in value if isinstance(v, str)]
        named = [v for v in choices if all(context.has_word(w) for w in _words_of(v))]
        close = [v for v in value if v in named or (isinstance(v, str) and context.has_close_word(v))]
        if named and len(close) < len(value):
            trimmed[name] = close
    return trimmed


_SEAM = re.compile(r"^(?:of|in|for)\s+|[\s,-]+(?:of|in|for)$|^[\s,-]+|[\s,-]+$", re.IGNORECASE)


def without_folded_values(arguments: dict[str, Any], schema: dict[str, Any], context: Context) -> dict[str, Any]:
    """The arguments with a number another argument holds taken off the start or end of a string argument, where a
    space sets it apart: a small model folds the season into the league (`league="2021 La Liga"` beside
    `season="2021"`). Only values with a digit are taken off ("Asia/Tokyo" keeps its city, a full name its
    surname); `context` is unused (the signature of the engine's argument rewrites)."""
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return arguments
    numbers = {
        other: str(held).strip()
        for other, held in arguments.items()
        if isinstance(held, str | int | float) and not isinstance(held, bool) and re.search(r"\d", str(held))
    }
    unfolded = dict(arguments)
    for name, value in arguments.items():
        node = properties.get(name)
        if not isinstance(value, str) or not isinstance(node, dict) or node.get("type") != "string" or "enum" in node:
            continue
        for other, part in numbers.items():
            if other != name and len(part) >= 2 and part.lower() != value.strip().lower():
                unfolded[name] = _taken_off(unfolded[name], part) or unfolded[name]
    return unfolded


def _taken_off(text: str, part: str) -> str | None:
    """`text` less `part` at its start or end, where a space sets it apart, with the joining word (None: not there,
    or nothing would be left)."""
    if text.lower().endswith(" " + part.lower()):
        rest = text[: -len(part) - 1]
    elif text.lower().startswith(part.lower() + " "):
        rest = text[len(part) + 1 :]
    else:
        return None
    return _SEAM.sub("", rest.strip()).strip() or None
