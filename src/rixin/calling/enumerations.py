"""Requests that list values ("the factorial of 5, 10 and 15", "tigers in Bangladesh and India"): one call per value.

A small model asked for the same thing over a list of values often makes the call for one of them (the last, or
the first) and stops. Which values a request lists is text, not judgement: a run of numbers or of capitalised names
joined by commas and a last "and"/"or". When a call holds one listed value as an argument and no call holds any of
the others — or calls alike but for that argument hold some of them — the others are what the model left out: the
engine makes the same call with each of them.

Not a list of values: a range ("between 1 and 10", which fills two arguments), values paired "respectively", and
values that no call holds at all. Lower-case words are left out: "a radius of 10 meters, and the third…" is no
list, and on the 0.5B's seed-0 run they cost four items for none gained (benchmarks/exploratory/fan_out_replay.py)
— unless they are choices a parameter declares ("sort them in ascending and descending order"), which the user
asked for each of: every call holding one is made with each.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_NUMBER = r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?"
_NAME = r"(?!I\b)[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,3}"
_KINDS = (_NUMBER, _NAME)
_RANGE_BEFORE = re.compile(r"\b(?:between|from)\s*$", re.IGNORECASE)


def _list_pattern(member: str) -> re.Pattern[str]:
    # members of one kind, separated by commas, the last by "and" or "or" (an Oxford comma allowed)
    return re.compile(rf"(?<![\w.,$-])(?:{member})(?:\s*,\s*(?:{member}))*\s*,?\s+(?:and|or)\s+(?:{member})(?![\w-])")


_LISTS = [(_list_pattern(kind), re.compile(kind)) for kind in _KINDS]
_LEADING = re.compile(
    r"^(?:In|At|On|For|From|To|Of|And|Or|The|A|An|What|Which|How|Is|Are|Can|Could|Find|Get|Give|Show|Also|Then)\s+"
)
"""A capitalised word that starts a sentence, not a name: "In Celsius, Fahrenheit or Kelvin"."""


def _option_lists(options: Sequence[str]) -> list[tuple[re.Pattern[str], re.Pattern[str]]]:
    """The list pattern of the choices that parameters declare, any case ("in percentage and fraction formats")."""
    words = sorted({o for o in options if len(o) > 1 and not o.isspace()}, key=len, reverse=True)
    if not words:
        return []
    member = "(?i:" + "|".join(re.escape(w) for w in words) + ")"
    return [(_list_pattern(member), re.compile(rf"(?<![\w-]){member}(?![\w-])"))]


def _without_full_stop(member: str) -> str:
    """A listed name less the full stop that ends its sentence ("… Oslo and Cairo."); an abbreviation's keeps it
    ("Washington D.C.")."""
    return member[:-1] if member.endswith(".") and member.count(".") == 1 else member


def listed_values(request: str, options: Sequence[str] = ()) -> list[list[str]]:
    """Each list of two or more values the request writes, as written ("1,000", "New York"): numbers, names, and
    the declared `options` of parameters (lower-case words only where they are such choices)."""
    if re.search(r"\brespectively\b", request, re.IGNORECASE):
        return []
    found: list[list[str]] = []
    for pattern, member in _LISTS + _option_lists(options):
        for match in pattern.finditer(request):
            if _RANGE_BEFORE.search(request[: match.start()]):
                continue
            members = [_without_full_stop(_LEADING.sub("", m.group(0))) for m in member.finditer(match.group(0))]
            if len(members) >= 2 and len(set(members)) == len(members):
                found.append(members)
    return found


def scalars(value: Any) -> list[Any]:
    """The scalar values inside a call's arguments (nested lists and objects flattened)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in scalars(v)]
    if isinstance(value, list):
        return [s for v in value for s in scalars(v)]
    return [value]


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _same(value: Any, member: str) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return _as_number(member) == float(value)
    return isinstance(value, str) and value.strip().lower() == member.lower()


def _typed(member: str, schema: dict[str, Any]) -> Any:
    """The listed value as the argument's schema types it (None when it cannot be)."""
    kind = schema.get("type")
    number = _as_number(member)
    if kind == "integer":
        return int(number) if number is not None and number == int(number) else None
    if kind == "number":
        return None if number is None else (int(number) if number == int(number) else number)
    if kind == "string":
        options = schema.get("enum")
        if options is None:
            return member
        return next((o for o in options if isinstance(o, str) and o.lower() == member.lower()), None)
    return None


Call = tuple[str, dict[str, Any]]


def _one_call_over(used: list[str], calls: Sequence[Call]) -> bool:
    """Whether the calls holding the listed values `used` are one call over them: the same tool, each holding one,
    alike in every other argument (the factorial of 15 and of 10, where 5, 10 and 15 were asked)."""
    holding = [(n, a) for n, a in calls if any(_same(v, m) for v in a.values() for m in used)]
    if len(used) < 2 or len(holding) != len(used) or len({n for n, _ in holding}) != 1:
        return False
    rest = [{k: v for k, v in a.items() if not any(_same(v, m) for m in used)} for _, a in holding]
    return all(r == rest[0] for r in rest)


def _declared_choices(schemas: dict[str, dict[str, Any]]) -> list[str]:
    """The choices the tools' string parameters declare (their `enum`s)."""
    return [
        option
        for schema in schemas.values()
        for node in schema.get("properties", {}).values()
        if isinstance(node, dict) and node.get("type") == "string"
        for option in node.get("enum", [])
        if isinstance(option, str)
    ]


def fan_out(calls: Sequence[Call], request: str, schemas: dict[str, dict[str, Any]], limit: int) -> list[Call]:
    """The calls, plus for each call holding one value of a listed run (as a whole argument) that no call holds
    another value of, the same call with each other value (at most `limit` calls in all); likewise where the calls
    holding values of the run are one tool's, alike but for that value (the factorial of 15 and of 10 for "5, 10
    and 15"). A run of choices a parameter declares ("in percentage and fraction formats") fans out every call
    holding one of them, though calls hold several (the model wrote each trip with one route preference where both
    were asked)."""
    result = list(calls)
    held = [s for _, arguments in calls for s in scalars(arguments)]
    options = _declared_choices(schemas)
    declared = {o.lower() for o in options}
    for members in listed_values(request, options):
        used = [m for m in members if any(_same(v, m) for v in held)]
        # "in both ascending and descending order": every call in each declared choice, though calls hold several
        choices = all(m.lower() in declared for m in members)
        if len(used) != 1 and not (choices and used) and not _one_call_over(used, result):
            continue
        for name, arguments in list(result):
            properties = schemas.get(name, {}).get("properties", {})
            mine = next((m for m in used if any(_same(v, m) for v in arguments.values())), None)
            if mine is None:
                continue
            key = next((k for k, v in arguments.items() if _same(v, mine)), None)
            if key is None or not isinstance(properties.get(key), dict):
                continue
            for other in members:
                value = _typed(other, properties[key]) if other != mine else None
                copy = (name, {**arguments, key: value})
                if value is not None and copy not in result and len(result) < limit:
                    result.append(copy)
    return result
