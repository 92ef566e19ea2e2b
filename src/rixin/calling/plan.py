"""Counting the calls a request needs from the model's own plan, keeping only lines grounded in the request.

Asked to list the calls a request needs, a small model lists the right ones first and then keeps going
(measured on Qwen2.5-Coder-0.5B: "Convert 20 EUR to JPY" got eight lines, the later ones with currencies
the user never named). A planned line counts only if it brings values the request actually contains in a
combination that no counted line already holds: that keeps "Paris" and "Tokyo" as two calls, keeps 1975 +
"vice president" after 1980 + "vice president" and 1975 + "president", and drops the invented lines (their
grounded values are all part of an earlier line's).

Where the plan's lines are calls and the tools are known (`ToolHints`), two more things tell lines apart: they
call two tools the request names apart (the weather forecast and the air pollution of one city), or they choose
two of an argument's options the request mentions (rainfall over "month" and over "ten_years").
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rixin.calling.grounding import Context
from rixin.calling.shortlist import clauses
from rixin.tools import Tool

_QUOTED = re.compile(r"\"([^\"\n]{1,80})\"|'([^'\n]{1,80})'")
_LINE_NUMBER = re.compile(r"^\s*\d+\.")
_NAME = re.compile(r"(?<![\w.])[A-Z][\w'-]*(?: [A-Z][\w'-]*)*")
# A full stop after a number ends the sentence ("of 12 and 18."); a digit after it would make it a decimal. A
# letter may follow ("70kg", a coefficient "7x"); digits inside a name ("x2", "B2", "mp3") are no number.
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\d|\.\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_REQUEST_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?!\d|\.\d)\s*(%?)")  # _NUMBER, unsigned, and a "%"
_CALLED_NAME = re.compile(r"^[\s`*-]*(?:\d+\.)?[\s`*-]*([A-Za-z_][\w.]*)\s*\(")
_NESTED_CALL = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\s*\(")
_JSON_KEY = re.compile(r"\"[\w.-]{1,40}\"\s*:")
_ARGUMENT_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*\s*(?:=(?!=)|:(?!\d))")
"""An argument's name before its value in a planned call (`I=10`, `city: Austin`): no value, even capitalised."""
_KEYED = re.compile(r"(?<![\w.])\w+\s*[=:]\s*([\w.:-]*\d[\w.:-]*)(?=\s*[,)]|\s*$)")
"""An unquoted argument value with a digit in it, after its name: `home_id=h10`, `event_id: e3`."""
_ARGUMENT = re.compile(r"[\"']?([A-Za-z_]\w*)[\"']?\s*[=:]\s*(\"[^\"\n]*\"|'[^'\n]*'|[\w.+-]+)")
"""An argument of a planned call with its value: `time_frame="year"`, `"time_frame": "year"`, `order: desc`."""
_COLON_ARGUMENT = re.compile(r"(?<![\w.\"'])([A-Za-z_]\w*)\s*:(?!\d)")
"""`name: value` in a planned call, written for `name=value`."""
_STRING = re.compile(r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
_JSON_NAMES = {"true": True, "false": False, "null": None}
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_GENERIC_NAME_WORDS = frozenset(
    {"get", "set", "find", "search", "calc", "calculate", "compute", "fetch", "list", "lookup", "check", "info"}
    | {"information", "details", "detail", "data", "tool", "api", "by", "for", "of", "the", "and", "to"}
)
"""Words in many tools' names that say nothing of what the user asked for."""


@dataclass(frozen=True)
class ToolHints:
    """What plan counting knows of the tools offered (nothing: the plan's text alone)."""

    names: tuple[str, ...] = ()
    options: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    """Per tool, per argument: the values its schema offers (an enum, or the values its description quotes), in
    lower case; with `options_apart` only."""
    tools_apart: bool = False
    options_apart: bool = False

    @classmethod
    def of(cls, tools: Sequence[Tool], *, tools_apart: bool, options_apart: bool) -> ToolHints:
        options = {t.name: _argument_options(t.parameters) for t in tools} if options_apart else {}
        return cls(tuple(t.name for t in tools), options, tools_apart, options_apart)


def _argument_options(parameters: dict[str, Any]) -> dict[str, frozenset[str]]:
    properties = parameters.get("properties", {})
    found: dict[str, frozenset[str]] = {}
    for name, schema in properties.items() if isinstance(properties, dict) else ():
        if not isinstance(schema, dict) or schema.get("type") == "boolean":
            continue  # a boolean is no option the request names: models list both values of one (docs/results.md)
        if isinstance(schema.get("enum"), list):
            values = {str(v) for v in schema["enum"]}
        else:
            values = {a or b for a, b in _QUOTED.findall(str(schema.get("description", "")))}
        if values:
            found[name] = frozenset(v.lower() for v in values)
    return found


def plan_values(line: str, *, keyed: bool = False) -> list[str]:
    """The literal values in one planned line: quoted strings, and outside the quotes numbers and capitalised
    names after the line's first word (plans in prose: "Get the current weather for Cairo") or after the called
    tool's name (plans as calls: `get_weather(Cairo)`). With `keyed`, a planned call's unquoted ids after an
    argument's name count too (`save_favorite(home_id=h10)`)."""
    line = _LINE_NUMBER.sub("", line)  # its number is no value
    if keyed:  # a JSON object's keys are argument names, not values: `f({"city": "Paris"})`
        line = _JSON_KEY.sub(" ", line)
    values = [a or b for a, b in _QUOTED.findall(line)]
    unquoted = _QUOTED.sub(" ", line)
    values += _NUMBER.findall(unquoted)
    if call := _CALLED_NAME.match(unquoted):  # a planned call: names follow the tool's (`f(C)`, `f(city=Paris)`)
        values += _NAME.findall(_ARGUMENT_NAME.sub(" ", unquoted[call.end() :]))
        if keyed:
            values += [v for v in _KEYED.findall(unquoted[call.end() :]) if not _NUMBER.fullmatch(v)]
    elif len(words := unquoted.strip().lstrip("`*- ").split(None, 1)) == 2:  # prose: after the first word
        values += _NAME.findall(words[1])
    return [value.strip() for value in values if value.strip()]


def grounded(value: str, request: str) -> bool:
    """Whether the request contains the value as a whole word (text ignoring case). Numbers are compared by
    value and without their sign ("5x^2 - 7x" gives b=-7), and a percentage also as a fraction ("3.5%" gives
    0.035)."""
    if _NUMBER.fullmatch(value):
        # "1,000" is one number and "5,10 and 15" three: read the request both ways, but a group of three digits
        # after a comma only as thousands ("2,000,000" holds no 0).
        found = _REQUEST_NUMBER.findall(request.replace(",", "") + " " + _THOUSANDS.sub("", request))
        numbers = {round(float(n) / (100 if percent else 1), 9) for n, percent in found}
        return round(abs(float(value)), 9) in numbers | {round(float(n), 9) for n, _ in found}
    return _spelling(value, request) is not None


def _spelling(value: str, request: str) -> str | None:
    """How the request spells a text value as a whole word: exactly if it can, else ignoring case (None: it does
    not). Tried and not adopted: underscores as spaces ("six_months" for "six months"), on the 1.5B's seed-0 plans
    one count righted (parallel_118) and one made too high (multiple_23's `points_per_game` after `points`)."""
    pattern = rf"(?<!\w){re.escape(value)}(?!\w)"
    found = re.search(pattern, request) or re.search(pattern, request, re.IGNORECASE)
    return found.group(0) if found else None


def count_planned_calls(
    plan: str, request: str, *, combinations: bool = True, hints: ToolHints | None = None
) -> int | None:
    """Planned lines that each bring something new grounded in the request; None when no line is grounded (the
    plan says nothing reliable, so the count is left to the model). With `combinations`, a line counts when
    its grounded values are not all held by one counted line (a new combination of known values counts: the
    requests "the president and the vice president in 1980 and 1975" need four calls over four values);
    without, only a line with a value no earlier line brought counts."""
    return len(counted_plan_lines(plan, request, combinations=combinations, hints=hints)) or None


def counted_plan_lines(
    plan: str, request: str, *, combinations: bool = True, keyed: bool = False, hints: ToolHints | None = None
) -> list[str]:
    """The planned lines that count (see `count_planned_calls`), without their numbers."""
    lines = plan.splitlines()
    counted = _counted_lines(lines, request, combinations, keyed, hints or ToolHints())
    return [_LINE_NUMBER.sub("", lines[index]).strip() for index, _ in counted]


def before_dependent(plan: str, tool_names: set[str] | frozenset[str]) -> str:
    """The plan up to its first line that takes another planned call's result as an argument
    (`write_cell("E3", 2 * read_cell("C3"))`): that call can be made only once the result is known."""
    lines = plan.splitlines()
    for index, line in enumerate(lines):
        call = _CALLED_NAME.match(line)
        arguments = _QUOTED.sub(" ", line[call.end() :]) if call else ""
        if any(name in tool_names for name in _NESTED_CALL.findall(arguments)):
            return "\n".join(lines[:index])
    return plan  # unchanged: `is` tells the caller nothing was cut


def planned_call_done(line: str, context: str, tool_names: set[str], done: list[tuple[str, set[str]]]) -> bool:
    """Whether a planned line repeats a call already made: the same tool, with the line's values found in the
    conversation all among that call's arguments (`done`: each earlier call's name and lower-cased values). A line
    with no value found is not done: nothing shows which call it repeats."""
    name = planned_tool(line, tool_names)
    values = {v.lower() for v in plan_values(line, keyed=True) if grounded(v, context)}
    return name is not None and bool(values) and any(name == made and values <= earlier for made, earlier in done)


def numbered(lines: list[str]) -> str:
    """The lines as the continuation of a plan prefix that ends in "1.": " a\n2. b\n"."""
    return "".join(f" {line}\n" if index == 0 else f"{index + 1}. {line}\n" for index, line in enumerate(lines))


@dataclass(frozen=True)
class _Line:
    index: int
    values: set[str]  # grounded
    tool: str | None  # the tool it calls, if the hints name it
    options: dict[str, str]  # argument → the option of the schema it chose (lower case)


def _counted_lines(
    lines: list[str], request: str, combinations: bool, keyed: bool, hints: ToolHints
) -> list[tuple[int, set[str]]]:
    """(line index, grounded values) of each line that counts."""
    counted: list[_Line] = []
    context = _request_context(request) if hints.options_apart else None
    for index, line in enumerate(lines):
        values = _grounded_values(line, request, keyed)
        if not values:
            continue
        tool = planned_tool(line, hints.names) if hints.names else None
        this = _Line(index, values, tool, _chosen_options(line, tool, hints))
        others = [c.values for c in counted if not _named_apart(this, c, request, hints)]
        fresh = not values <= set().union(*others)
        if not fresh and combinations:
            # Known values in a new combination: a call of its own, unless one counted line holds them all (a
            # repeat) or they hold two counted lines' values (a line that merges earlier calls: "Paris, Tokyo").
            fresh = not any(values <= earlier for earlier in others)
            fresh = fresh and sum(values > earlier for earlier in others) < 2
        if not fresh and context is not None:
            holders = [c for c in counted if values <= c.values and not _named_apart(this, c, request, hints)]
            fresh = bool(holders) and all(_other_option(this, c, context) for c in holders)
        if fresh:
            counted.append(this)
    return [(c.index, c.values) for c in counted]


def _named_apart(line: _Line, other: _Line, request: str, hints: ToolHints) -> bool:
    """Whether the lines call two tools that the request names apart: each name has words the other's lacks, and
    one part of the request says some of one's and none of the other's, another part the reverse ("the weather
    forecast for Oslo" and "its air pollution" for `weather_forecast` and `air_pollution`). A small model's plan
    also tries a second tool with the same values where one was asked for (`loan_payment` after
    `mortgage_payment` for "the payment on my mortgage"), or two tools that one sentence names ("the quickest
    route to the chess club"): no part of the request names that one alone."""
    if not hints.tools_apart or line.tool is None or other.tool is None or line.tool == other.tool:
        return False
    mine, theirs = _name_words(line.tool), _name_words(other.tool)
    mine, theirs = mine - theirs, theirs - mine
    says = [(any(_said(w, part) for w in mine), any(_said(w, part) for w in theirs)) for part in _clause_words(request)]
    return (True, False) in says and (False, True) in says


# The plan is counted again at every token while it is generated (`plan_stalled`): what comes from the request alone
# is worked out once per request.
@functools.lru_cache(maxsize=16)
def _clause_words(request: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(w.lower() for w in re.findall(r"[^\W_]+", part)) for part in clauses(request, min_words=1))


@functools.lru_cache(maxsize=16)
def _request_context(request: str) -> Context:
    return Context(request)


def _name_words(tool: str) -> set[str]:
    return {w.lower() for w in _NAME_WORD.findall(tool) if len(w) >= 3} - _GENERIC_NAME_WORDS


def _said(word: str, request_words: frozenset[str]) -> bool:
    """A word of a tool's name in the request, or a longer or shorter form of it ("prep" for "prepare")."""
    return word in request_words or any(
        min(len(word), len(said)) >= 4 and (said.startswith(word) or word.startswith(said)) for said in request_words
    )


def _chosen_options(line: str, tool: str | None, hints: ToolHints) -> dict[str, str]:
    options = hints.options.get(tool or "", {})
    call = _CALLED_NAME.match(line)
    if not options or call is None:
        return {}
    chosen = {name: value.strip("\"'").lower() for name, value in _ARGUMENT.findall(line[call.end() :])}
    return {name: value for name, value in chosen.items() if value in options.get(name, ())}


def _other_option(line: _Line, holder: _Line, context: Context) -> bool:
    """Whether the line, whose values a counted line holds, is still a call of its own: the same tool with
    another of an argument's options, where the request mentions both ("month" and "ten_years" for "over the last
    month and the last ten years"; "freezing" for "freezes", "EV" for "an electric vehicle"). A model also lists
    the options the request leaves open ("brief", then "full", for "a full report")."""
    if line.tool is None or line.tool != holder.tool:
        return False
    return any(
        name in holder.options
        and holder.options[name] != value
        and _mentions(value, context)
        and _mentions(holder.options[name], context)
        for name, value in line.options.items()
    )


def _mentions(option: str, context: Context) -> bool:
    spaced = option.replace("_", " ").replace("-", " ")
    if context.has_text(spaced):
        return True
    # A short form of the request's words: "ev" for "electric vehicle".
    letters = spaced.replace(" ", "")
    return 2 <= len(letters) <= 4 and letters.isalpha() and context.has_initials(letters)


def _grounded_values(line: str, request: str, keyed: bool) -> set[str]:
    """The keys of a planned line's values that the request contains. A value it does not contain brings its
    comma-separated parts that it does ("San Francisco, CA" for "San Francisco, California")."""
    values: set[str] = set()
    for value in plan_values(line, keyed=keyed):
        parts = [value]
        if not grounded(value, request) and "," in value:
            parts = [part.strip() for part in value.split(",") if any(char.isalpha() for char in part)]
        values |= {key for part in parts if (key := _grounded_key(part, request)) is not None}
    return values


def _grounded_key(value: str, request: str) -> str | None:
    """A grounded value as lines are compared (None: the request lacks it): text as the request spells it
    (ignoring case, but the exact spelling first: genotypes "AA", "Aa" and "aa" are three values), numbers by value
    and without their sign (as `grounded` finds them: c=-25 and c=25 are one value of "5x^2 + 20x - 25")."""
    if _NUMBER.fullmatch(value):
        return f"{abs(float(value)):g}" if grounded(value, request) else None
    return _spelling(value, request)


def plan_stalled(
    finished_lines: list[str],
    request: str,
    *,
    combinations: bool = True,
    keyed: bool = False,
    hints: ToolHints | None = None,
) -> bool:
    """Whether the last finished line of a plan brought nothing new (nothing after it will count). A line with no
    value at all (a heading: "Calculate the displacement of each car:") does not stall the plan unless the line
    before it had none either: the calls may follow it."""
    if not finished_lines:
        return False
    if not plan_values(finished_lines[-1], keyed=keyed) and (
        len(finished_lines) < 2 or plan_values(finished_lines[-2], keyed=keyed)
    ):
        return False
    hints = hints or ToolHints()
    before = len(_counted_lines(finished_lines[:-1], request, combinations, keyed, hints))
    return len(_counted_lines(finished_lines, request, combinations, keyed, hints)) == before


def planned_arguments(line: str) -> dict[str, Any] | None:
    """The arguments of a planned call written out in full — `f(city="Paris", days=3)`, `f(city: "Paris")` or
    `f({"city": "Paris"})` — as a JSON object; None for anything else (a positional argument, an unquoted word, an
    expression, text after the call)."""
    call = _CALLED_NAME.match(line)
    body = line[call.end() :].strip() if call else ""
    if not body.endswith(")"):
        return None
    body = body[:-1].strip()
    if body.startswith("{"):
        try:
            found = json.loads(body)
        except ValueError:
            return None
        return found if isinstance(found, dict) else None
    for source in (body, _outside_quotes(body, lambda text: _COLON_ARGUMENT.sub(r"\1=", text))):
        try:
            node = ast.parse(f"f({source})", mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(node, ast.Call) or node.args or any(k.arg is None for k in node.keywords):
            return None
        try:
            return {str(k.arg): _literal(k.value) for k in node.keywords}
        except ValueError:
            return None
    return None


def _outside_quotes(text: str, change: Callable[[str], str]) -> str:
    """The text with `change` applied to its parts outside quoted strings."""
    parts = _STRING.split(text)  # the strings are the odd parts
    return "".join(part if index % 2 else change(part) for index, part in enumerate(parts))


def _literal(node: ast.expr) -> Any:
    """A Python or JSON literal (`true`, `null` as JSON has them); ValueError for anything else."""
    if isinstance(node, ast.Name) and node.id in _JSON_NAMES:
        return _JSON_NAMES[node.id]
    if isinstance(node, ast.List):
        return [_literal(element) for element in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
    return ast.literal_eval(node)


def planned_tool(line: str, tool_names: Collection[str]) -> str | None:
    """The tool a planned line calls by name (`name(…)`, optionally in backticks), None when it names none of
    `tool_names`."""
    found = _CALLED_NAME.match(line)
    return found.group(1) if found is not None and found.group(1) in tool_names else None


def next_call_planned(plan: str, context: str, tool_names: set[str], done: list[tuple[str, set[str]]]) -> str | None:
    """The first planned line that is a call still to make, as the tool's name (None when there is none).

    After tool results, the model lists the calls the request still needs. A line counts when it calls one of
    the tools by name (`name(…)`), brings at least one value the conversation contains (the request or a tool
    result: an id the first call returned), and is not a call already made — the same tool with those values
    among an earlier call's arguments (`done`: each earlier call's name and lower-cased argument values)."""
    for line in plan.splitlines():
        name = planned_tool(line, tool_names)
        if name is None:
            continue
        values = {v.lower() for v in plan_values(line) if grounded(v, context)}
        if not values:
            continue
        if any(name == done_name and values <= earlier for done_name, earlier in done):
            continue
        return name
    return None
