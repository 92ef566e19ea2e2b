"""Judging calls against BFCL gold answers, with a fine error code and one of the three error kinds.

Written from the published rules (not BFCL's code): the name must match exactly; required parameters must
be present; every given parameter must exist in the schema and in the gold; types must match (an int is a
valid float, a bool is not an int, a tuple is a list); strings compare after lower-casing and removing
spaces and `,./-_*^` (with `'` read as `"`); lists compare in order; dicts may not add keys; an omitted
parameter is fine only when `""` is accepted. Parallel calls are matched to the gold regardless of order,
by a maximum bipartite matching.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["selection", "argument", "non_executable"]
KINDS: tuple[Kind, ...] = ("selection", "argument", "non_executable")


@dataclass(frozen=True)
class Call:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    error_code: str | None = None
    kind: Kind | None = None
    detail: str = ""


PASS = Verdict(passed=True)

# error code → kind
CODES: dict[str, Kind] = {
    "unparsable_output": "non_executable",
    "no_call": "selection",
    "unexpected_call": "selection",
    "wrong_count": "selection",
    "wrong_function": "selection",
    "missing_required": "argument",
    "unexpected_param": "argument",
    "wrong_type": "argument",
    "wrong_value": "argument",
}


def fail(code: str, detail: str) -> Verdict:
    return Verdict(passed=False, error_code=code, kind=CODES[code], detail=detail)


_STRIP = str.maketrans("", "", " ,./-_*^")


def normalize_string(text: str) -> str:
    return text.lower().replace("'", '"').translate(_STRIP)


def _type_ok(value: Any, bfcl_type: str | None) -> bool:
    if bfcl_type in (None, "any"):
        return True
    if bfcl_type == "string":
        return isinstance(value, str)
    if bfcl_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if bfcl_type in ("float", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if bfcl_type == "boolean":
        return isinstance(value, bool)
    if bfcl_type in ("array", "tuple"):
        return isinstance(value, list | tuple)
    if bfcl_type in ("dict", "object"):
        return isinstance(value, dict)
    return True


def _type_error(value: Any, schema: dict[str, Any]) -> str | None:
    """A description of the first type mismatch in `value` (recursing into array items), else None."""
    expected = schema.get("type")
    if not _type_ok(value, expected):
        return f"expected {expected}, got {type(value).__name__} {value!r}"
    items = schema.get("items")
    if expected in ("array", "tuple") and isinstance(items, dict):
        for element in value:
            problem = _type_error(element, items)
            if problem:
                return f"item: {problem}"
    return None


def _same(value: Any, accepted: Any) -> bool:
    """Equality after BFCL's normalisation, recursively."""
    if isinstance(accepted, str):
        return isinstance(value, str) and normalize_string(value) == normalize_string(accepted)
    if isinstance(accepted, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(accepted, bool) and value == accepted
    if isinstance(accepted, int | float):
        return isinstance(value, int | float) and value == accepted
    if isinstance(accepted, list | tuple):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(accepted)
            and all(_same(v, a) for v, a in zip(value, accepted, strict=True))
        )
    if isinstance(accepted, dict):
        return _dict_matches(value, accepted)
    return bool(value == accepted)


def _dict_matches(value: Any, accepted: dict[str, Any]) -> bool:
    """A dict value against a gold dict whose values are lists of accepted values (or plain values)."""
    if not isinstance(value, dict) or not set(value) <= set(accepted):
        return False
    for key, options in accepted.items():
        choices = options if isinstance(options, list) else [options]
        if key not in value:
            if "" not in choices:
                return False
        elif not any(_same(value[key], choice) for choice in choices if choice != ""):
            return False
    return True


def _value_ok(value: Any, accepted: Sequence[Any]) -> bool:
    return any(_same(value, option) for option in accepted if option != "" or value == "")


def check_call(call: Call, function: dict[str, Any], gold: dict[str, list[Any]]) -> Verdict:
    """One call against one gold call to the same function (names already equal)."""
    parameters = function.get("parameters") or {}
    properties: dict[str, Any] = parameters.get("properties") or {}
    for name in parameters.get("required") or []:
        if name not in call.arguments:
            return fail("missing_required", f"{call.name}: missing required parameter {name!r}")
    for name, value in call.arguments.items():
        if name not in properties or name not in gold:
            return fail("unexpected_param", f"{call.name}: unexpected parameter {name!r}")
        problem = _type_error(value, properties[name])
        if problem:
            return fail("wrong_type", f"{call.name}.{name}: {problem}")
        if not _value_ok(value, gold[name]):
            accepted = [a for a in gold[name] if a != ""]
            return fail("wrong_value", f"{call.name}.{name}: {value!r} not in accepted {accepted!r}")
    for name, accepted in gold.items():
        if name not in call.arguments and "" not in accepted:
            return fail("missing_required", f"{call.name}: missing parameter {name!r} that the answer needs")
    return PASS


def _matching(
    calls: Sequence[Call], golds: Sequence[tuple[str, dict[str, list[Any]]]], functions: dict[str, Any]
) -> tuple[int, list[Verdict]]:
    """Maximum bipartite matching of calls to gold calls where the pair passes; returns its size and, for
    failed pairs with equal names, their verdicts (to explain a failure)."""
    ok: list[list[int]] = []
    near_misses: list[Verdict] = []
    for gold_name, gold_args in golds:
        row = []
        for index, call in enumerate(calls):
            if call.name != gold_name:
                continue
            verdict = check_call(call, functions.get(call.name, {}), gold_args)
            if verdict.passed:
                row.append(index)
            else:
                near_misses.append(verdict)
        ok.append(row)
    owner: dict[int, int] = {}

    def augment(gold_index: int, seen: set[int]) -> bool:
        for call_index in ok[gold_index]:
            if call_index in seen:
                continue
            seen.add(call_index)
            if call_index not in owner or augment(owner[call_index], seen):
                owner[call_index] = gold_index
                return True
        return False

    size = sum(augment(g, set()) for g in range(len(golds)))
    return size, near_misses


def check_presence(names: Sequence[str], *, wanted: bool, unparsable: bool) -> Verdict | None:
    """The verdict when calls were made where none was wanted, or none where some were; None otherwise
    (shared by the BFCL checker and the execution suite's judge)."""
    if not wanted:
        return fail("unexpected_call", f"called {', '.join(names)} where no function fits") if names else PASS
    if names:
        return None
    if unparsable:
        return fail("unparsable_output", "the output does not parse into calls")
    return fail("no_call", "answered in text where a call was wanted")


def check_item(
    category: str,
    calls: Sequence[Call] | None,
    functions: Sequence[dict[str, Any]],
    gold: Sequence[dict[str, dict[str, list[Any]]]] | None,
    *,
    unparsable: bool = False,
) -> Verdict:
    """Judge a model's calls for one BFCL item.

    `calls` None or empty with `unparsable` set means the output tried to call but could not be read."""
    calls = list(calls or [])
    presence = check_presence(
        [c.name for c in calls], wanted=category != "irrelevance" and bool(gold), unparsable=unparsable
    )
    if presence is not None:
        return presence
    assert gold is not None
    golds = [(name, args) for entry in gold for name, args in entry.items()]
    by_name = {f["name"]: f for f in functions}
    if len(calls) != len(golds):
        return fail("wrong_count", f"{len(calls)} call(s) where {len(golds)} were wanted")
    wanted_names = Counter(name for name, _ in golds)
    given_names = Counter(c.name for c in calls)
    if wanted_names != given_names:
        missing = sorted((wanted_names - given_names).elements())
        extra = sorted((given_names - wanted_names).elements())
        return fail("wrong_function", f"called {extra} instead of {missing}")
    size, near_misses = _matching(calls, golds, by_name)
    if size == len(golds):
        return PASS
    return near_misses[0] if near_misses else fail("wrong_value", "calls do not match the answers")


def _canonical(value: Any) -> Any:
    """The first accepted value, recursively: nested gold dicts hold lists of accepted values too."""
    if isinstance(value, dict):
        return {k: _canonical(v[0]) for k, v in value.items() if isinstance(v, list) and v and v[0] != ""}
    if isinstance(value, list):
        return [_canonical(element) for element in value]
    return value


def canonical_calls(gold: Sequence[dict[str, dict[str, list[Any]]]]) -> list[Call]:
    """A call built from each gold answer's first accepted values (omitting optional parameters)."""
    calls = []
    for entry in gold:
        for name, params in entry.items():
            arguments = {p: _canonical(values[0]) for p, values in params.items() if values and values[0] != ""}
            calls.append(Call(name=name, arguments=arguments))
    return calls
