"""Turn what small open models print into tool calls.

Prompted with tools, small models (Qwen2.5-Coder, SmolLM2, Llama-style) answer in many dialects:
Hermes/Qwen ``<tool_call>`` tags, bare JSON (objects, lists, JSON lines, OpenAI wrappers), fenced
code blocks, Python-style calls and ``<function=name>`` tags. This module reads all of them and never
evaluates code: Python syntax only goes through ``ast`` and ``ast.literal_eval``.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypeAlias

import jiter

__all__ = ["ParseResult", "ParsedCall", "parse_tool_calls", "salvage_truncated"]


@dataclass(frozen=True)
class ParsedCall:
    name: str
    arguments: dict[str, Any]
    form: str  # "tag", "json", "fence", "python", "function_tag": the outermost wrapper, else the syntax


@dataclass(frozen=True)
class ParseResult:
    calls: list[ParsedCall]
    content: str | None  # text that is not part of any call, stripped; None when empty
    errors: list[str]  # fragments that clearly tried to be calls but could not be read


class _Hit(NamedTuple):
    start: int
    end: int
    calls: list[ParsedCall]
    errors: list[str]


_Known: TypeAlias = "dict[str, list[str]] | None"
_Found: TypeAlias = "tuple[list[ParsedCall], list[str]]"

_NAME_KEYS = ("name", "function", "tool", "tool_name", "api", "action")
_ARG_KEYS = ("arguments", "parameters", "args", "params", "input", "action_input")
_META_KEYS = frozenset({*_NAME_KEYS, "id", "type", "index", "call_id"})
_CALL_LANGS = frozenset({"tool_call", "tool_calls", "tool_code", "tool", "function_call"})
_JSON_NAMES: dict[str, Any] = {"true": True, "false": False, "null": None}
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_IDENT = re.compile(r"[^\W\d][\w.\-]*\Z")
_CALLISH = re.compile(r"""["']?\b(?:name|function|tool|tool_name|api|action)["']?\s*:""")
# A JSON opener, or an identifier (possibly dotted) followed by "(" that is not a `def`.
_OPENER = re.compile(r"[\[{]")
_START = re.compile(r"[\[{]|(?<![\w.])(?<!def )([^\W\d][\w.]*)\s*\(")
_FENCE = re.compile(r"```(?:([A-Za-z][\w+.\-]*)?[ \t]*\n)?(.*?)(?:```|\Z)", re.S)
_FUNC_TAG = re.compile(r"<function=([^>\s]+)>(.*?)(?:</function>|(?=<function=)|\Z)", re.S)
_PARAM_TAG = re.compile(r"<parameter=([^>\s]+)>(.*?)(?:</parameter>|(?=<parameter=)|\Z)", re.S)


def parse_tool_calls(
    text: str,
    tools: Mapping[str, Sequence[str]] | None = None,
    open_tag: str = "<tool_call>",
    close_tag: str = "</tool_call>",
) -> ParseResult:
    """Read every tool call in a model's reply.

    `tools` maps each known tool to its ordered parameter names. With it, Python-style calls are
    recognised for known names only (anywhere in the text); without it, any identifier call counts,
    but only when the whole text (or a fence body) is nothing but calls. JSON calls with unknown
    names are always returned: the caller reports them.
    """
    known = {name: list(params) for name, params in tools.items()} if tools is not None else None
    calls: list[ParsedCall] = []
    errors: list[str] = []
    rest: list[str] = []
    pos = 0
    # The empty hit at the end makes the loop also read the text after the last tag.
    for hit in [*_tag_hits(text, open_tag, close_tag, known), _Hit(len(text), len(text), [], [])]:
        (found, failed), leftover = _collect(text[pos : hit.start], known, explicit=False)
        calls += found + hit.calls
        errors += failed + hit.errors
        rest.append(leftover)
        pos = hit.end
    content = "".join(rest).strip()
    if (calls or errors) and not re.search(r"\w", content):
        content = ""  # only brackets, commas or fence marks were left around the calls
    return ParseResult(calls, content or None, errors)


def salvage_truncated(text: str) -> list[ParsedCall]:
    """The calls in JSON output that was cut off at the token limit: the complete calls, and the call being
    written less the argument it was writing (its value is unfinished; a small model cut off there was mostly
    running on through an argument nobody asked for, such as every card of a deck). Empty when no call-shaped
    JSON runs to the end of the text."""
    start = _unclosed_json(text)
    if start is None:
        return []
    fragment = text[start:]
    try:
        value = jiter.from_json(fragment.encode(), partial_mode="trailing-strings")
    except ValueError:
        return []
    items = list(value) if isinstance(value, list) else [value]
    last = items.pop() if items and isinstance(items[-1], dict) else None
    if isinstance(last, dict) and isinstance(last.get("function"), dict):  # OpenAI: {"function": {...}}
        last = last["function"]
    arg_key = next((k for k in _ARG_KEYS if k in last), None) if isinstance(last, dict) else None
    if last is not None and arg_key is not None and isinstance(last[arg_key], dict):
        arguments = dict(last[arg_key])
        path = _open_path(fragment)
        inside = path[path.index(arg_key) + 1 :] if arg_key in path else []
        if inside and inside[0] is not None:  # cut inside the arguments: the one being written goes
            arguments.pop(str(inside[0]), None)
        items.append({**last, arg_key: arguments})  # (a call cut before its arguments began is dropped)
    found = _from_json(items, "json") if items else None
    return [replace(call, form="json") for call in found[0]] if found else []


def _open_path(fragment: str) -> list[str | int | None]:
    """The key (in an object; None between keys) or index (in an array) of each value still open where a JSON
    fragment ends, outermost first: `[{"a": {"b": [1, 2` gives [0, "a", "b", 1]."""
    path: list[str | int | None] = []
    in_key: list[bool] = []  # per open container: whether a key is expected next (objects only)
    i = 0
    while i < len(fragment):
        ch = fragment[i]
        if ch == '"':
            end = i + 1
            while end < len(fragment) and fragment[end] != '"':
                end += 2 if fragment[end] == "\\" else 1
            if end >= len(fragment):
                break  # cut inside this string
            if in_key and in_key[-1]:
                path[-1], in_key[-1] = fragment[i + 1 : end], False
            i = end
        elif ch in "[{":
            path.append(0 if ch == "[" else None)
            in_key.append(ch == "{")
        elif ch in "]}" and path:
            path.pop()
            in_key.pop()
        elif ch == "," and path:
            index = path[-1]
            path[-1], in_key[-1] = (index + 1, False) if isinstance(index, int) else (None, True)
        i += 1
    return path


def _unclosed_json(text: str) -> int | None:
    """Where the call-shaped JSON value that runs to the end of the text begins (None: there is none)."""
    i = 0
    while m := _OPENER.search(text, i):
        stop = _close(text, m.start(), len(text), set())
        if stop is None:
            return m.start() if _CALLISH.search(text, m.start()) else None
        i = stop
    return None


def _tag_hits(text: str, open_tag: str, close_tag: str, known: _Known) -> list[_Hit]:
    hits: list[_Hit] = []
    i = 0
    while open_tag and close_tag:
        o, c = text.find(open_tag, i), text.find(close_tag, i)
        if o == -1 and c == -1:
            break
        if o == -1 or (c != -1 and c < o):  # stray close tag: the open tag was in the prompt or got lost
            hits.append(_Hit(c, c + len(close_tag), [], []))
            i = c + len(close_tag)
            continue
        body = o + len(open_tag)
        # A block ends at its close tag, at the next open tag, or (generation stopped) at the end.
        end = min((x for x in (text.find(close_tag, body), text.find(open_tag, body)) if x != -1), default=len(text))
        stop = end + len(close_tag) if text.startswith(close_tag, end) else end
        hits.append(_Hit(o, stop, *_explicit(text[body:end], known, "tag")))
        i = stop
    return hits


def _explicit(body: str, known: _Known, form: str) -> _Found:
    """Calls in a block that is certainly meant as a call: whatever is there counts, else an error."""
    (calls, errors), _ = _collect(body, known, explicit=True)
    if not calls and not errors:
        errors = [f"unreadable tool call: {_snip(body)!r}"]
    return [replace(call, form=form) for call in calls], errors


def _collect(text: str, known: _Known, explicit: bool) -> tuple[_Found, str]:
    """Calls and errors found in `text` (tags aside), and the text left over around them."""
    hits = _fence_hits(text, known)
    hits += [h for a, b in _gaps(text, hits) for h in _func_hits(text, a, b, known)]
    if not hits and (src := text.strip()):  # the whole text may be one JSON value or nothing but calls
        ok, value = _loads(src)
        if (whole := _from_json(value, "json") if ok else _py_payload(src, known, explicit)) is not None:
            return whole, ""
    hits += [h for a, b in _gaps(text, hits) for h in _scan(text, a, b, known)]
    hits.sort(key=lambda h: h.start)
    found = [c for h in hits for c in h.calls], [e for h in hits for e in h.errors]
    return found, "".join(text[a:b] for a, b in _gaps(text, hits))


def _gaps(text: str, hits: Sequence[_Hit]) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for hit in sorted(hits, key=lambda h: h.start):
        spans.append((pos, hit.start))
        pos = hit.end
    spans.append((pos, len(text)))
    return [(a, b) for a, b in spans if b > a]


def _fence_hits(text: str, known: _Known) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _FENCE.finditer(text):
        if (m.group(1) or "").lower() in _CALL_LANGS:
            calls, errors = _explicit(m.group(2), known, "fence")
        else:  # ```json, ```python, plain ```: a fence with no call in it is just content
            (calls, errors), _ = _collect(m.group(2), known, explicit=False)
        if calls or errors:
            hits.append(_Hit(m.start(), m.end(), [replace(c, form="fence") for c in calls], errors))
    return hits


def _func_hits(text: str, a: int, b: int, known: _Known) -> list[_Hit]:
    """`<function=name>{json}</function>` (Llama 3.1) and `<parameter=k>v</parameter>` bodies (Qwen3)."""
    hits: list[_Hit] = []
    for m in _FUNC_TAG.finditer(text, a, b):
        body = m.group(2).strip()
        args: Any = body or None
        if "<parameter=" in body:
            args = {key: _value(raw) for key, raw in _PARAM_TAG.findall(body)}
        got = _call(_resolve(m.group(1), known), args, "function_tag")
        hits.append(_Hit(m.start(), m.end(), *(([], [got]) if isinstance(got, str) else ([got], []))))
    return hits


def _scan(text: str, a: int, b: int, known: _Known) -> list[_Hit]:
    """Calls embedded in free text: call-shaped JSON anywhere, Python calls of known tools."""
    hits: list[_Hit] = []
    unclosed: set[int] = set()  # openers known to run off the end: keeps "{{{{..." loops linear
    last_callish = max((c.start() for c in _CALLISH.finditer(text, a, b)), default=-1)
    i = a
    while m := _START.search(text, i, b):
        s, name = m.start(), m.group(1)
        if name is not None and (known is None or _resolve(name, known) not in known):
            i = m.end()  # prose or code that merely looks like a call
            continue
        stop = None if s in unclosed else _close(text, m.end() - 1 if name else s, b, unclosed)
        if stop is None:  # ran off the end: generation was cut mid-call
            if name or (text[s] == "{" and last_callish > s):
                hits.append(_Hit(s, b, [], [f"truncated call: {_snip(text[s:b])!r}"]))
                break
            i = s + 1
            continue
        frag = text[s:stop]
        found: _Found | None
        if name:
            found = _py_payload(frag, known, False) or ([], [f"unreadable call: {_snip(frag)!r}"])
        else:
            ok, value = _loads(frag)
            found = _from_json(value, "json") if ok else None
            if not ok and text[s] == "[" and known is not None:
                found = _py_payload(frag, known, False)  # [f(a=1), g(b=2)]
            elif not ok and _CALLISH.search(frag):
                found = [], [f"malformed JSON call: {_snip(frag)!r}"]
            if found is None:
                i = stop if ok else s + 1  # well-formed data that is not a call is skipped whole
                continue
        hits.append(_Hit(s, stop, *found))
        i = stop
    return hits


def _close(text: str, pos: int, end: int, unclosed: set[int]) -> int | None:
    """Index just past the bracket matching text[pos]; None when the text ends first."""
    stack: list[tuple[str, int]] = []
    quote = ""
    i = pos
    while i < end:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in _PAIRS:
            stack.append((_PAIRS[ch], i))
        elif ch in ")]}" and (stack.pop()[0] != ch or not stack):
            return i + 1  # matched (or mismatched: the decoder will judge the fragment)
        i += 1
    unclosed.update(at for _, at in stack)  # scanned from any of these, the text ends first too
    return None


# --- JSON --------------------------------------------------------------------------------------


def _from_json(value: Any, form: str) -> _Found | None:
    """Calls in decoded JSON, or None when it is not call-shaped (then it is just data)."""
    wrapped = isinstance(value, dict) and isinstance(value.get("tool_calls"), list)
    items = value["tool_calls"] if wrapped else value if isinstance(value, list) else [value]
    got = [_one(item, form) for item in items]
    if any(g is None for g in got) or not (got or wrapped):
        return None
    return [g for g in got if isinstance(g, ParsedCall)], [g for g in got if isinstance(g, str)]


def _one(obj: Any, form: str) -> ParsedCall | str | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):  # OpenAI: {"type": "function", "function": {...}}
        return _one(obj["function"], form)
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    arg_key = next((k for k in _ARG_KEYS if k in obj), None)
    if name is None or not _IDENT.match(name):
        return None
    if arg_key is None and not obj.keys() <= _META_KEYS:
        return None  # {"name": "Ann", "age": 3} is data, not a call
    args = obj[arg_key] if arg_key else None
    if isinstance(args, dict) and args.get("type") == "object" and "properties" in args:
        return None  # an echoed tool schema
    return _call(name, args, form)


def _call(name: str, args: Any, form: str) -> ParsedCall | str:
    if args is None or (isinstance(args, str) and not args.strip()):
        args = {}
    elif isinstance(args, str):  # arguments as a JSON text, as OpenAI sends them
        ok, args = _loads(args)
        if not ok:
            return f"{name}: arguments are not valid JSON"
    if not isinstance(args, dict):
        return f"{name}: arguments must be an object, not {type(args).__name__}"
    return ParsedCall(name, {str(k): v for k, v in args.items()}, form)


def _loads(src: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(src)
    except (ValueError, RecursionError):
        pass
    try:  # the usual slips: single quotes, True/None, trailing commas, bare keys
        return True, _literal(ast.parse(src.strip(), mode="eval"), bare_keys=True)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return False, None


def _value(raw: str) -> Any:
    """A `<parameter>` value: JSON when it reads as JSON, else the text itself."""
    ok, value = _loads(raw.strip())
    return value if ok else raw.strip()


# --- Python ------------------------------------------------------------------------------------


class _Literals(ast.NodeTransformer):
    """Let JSON spellings (true/false/null) and, for JSON, bare keys through ast.literal_eval."""

    def __init__(self, bare_keys: bool) -> None:
        self.bare_keys = bare_keys

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _JSON_NAMES:
            return ast.copy_location(ast.Constant(_JSON_NAMES[node.id]), node)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        if self.bare_keys:
            node.keys = [ast.Constant(k.id) if isinstance(k, ast.Name) else k for k in node.keys]
        self.generic_visit(node)
        return node


def _literal(node: ast.AST, bare_keys: bool = False) -> Any:
    return _plain(ast.literal_eval(_Literals(bare_keys).visit(node)))


def _plain(value: Any) -> Any:
    """Keep only JSON-shaped values (tuples and sets become lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    raise ValueError(f"not a JSON value: {type(value).__name__}")


def _py_payload(src: str, known: _Known, explicit: bool) -> _Found | None:
    """Python-style calls when `src` is nothing but calls (one per line, or in a list)."""
    try:
        body = ast.parse(textwrap.dedent(src).strip()).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes: list[ast.Call] = []
    for stmt in body:
        value = stmt.value if isinstance(stmt, ast.Expr) else None
        items: Sequence[ast.expr | None] = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        for item in items or [None]:
            if not isinstance(item, ast.Call):
                return None
            nodes.append(item)
    calls: list[ParsedCall] = []
    errors: list[str] = []
    for node in nodes:
        dotted = _dotted(node.func)
        if dotted is None:
            return None
        name = _resolve(dotted, known)
        sure = explicit or (known is not None and name in known)
        if not sure and known is not None:
            return None  # with tools, only calls of known tools count
        got = _py_call(node, name, known.get(name, []) if known else [])
        if isinstance(got, ParsedCall):
            calls.append(got)
        elif sure:
            errors.append(got)
        else:
            return None  # tools=None and it does not read as a call (print(x)): leave it as text
    return (calls, errors) if nodes else None


def _py_call(node: ast.Call, name: str, params: Sequence[str]) -> ParsedCall | str:
    if len(node.args) > len(params):
        return f"{name}: {len(node.args)} positional argument(s) but {len(params)} known parameter(s)"
    args: dict[str, Any] = {}
    for key, value in [*zip(params, node.args, strict=False), *((k.arg, k.value) for k in node.keywords)]:
        if key is None or isinstance(value, ast.Starred):
            return f"{name}: * and ** arguments are not supported"
        if key in args:
            return f"{name}: argument {key!r} given twice"
        try:
            args[key] = _literal(value)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return f"{name}: argument {key!r} is not a literal value"
    return ParsedCall(name, args, "python")


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)):
        return f"{base}.{node.attr}"
    return None


def _resolve(name: str, known: _Known) -> str:
    """`math.factorial` becomes `factorial` when only the last segment is a known tool."""
    last = name.rsplit(".", 1)[-1]
    return last if known is not None and name not in known and last in known else name


def _snip(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
