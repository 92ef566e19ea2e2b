"""Schema-constrained decoding: llguidance grammars for tool calls and JSON answers, as token constraints.

llguidance computes the set of allowed tokens for the next step in microseconds (llama.cpp's own GBNF
sampler costs 40–190% of generation speed here), and tells us which tokens are forced so that the runtime
can evaluate them in one batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rixin.models.llama import Logits
from rixin.tools import Tool

# Compact, deterministic JSON in the separators Qwen's own template uses; flexible whitespace lets small
# models wander into endless newlines.
JSON_STYLE: dict[str, Any] = {
    "item_separator": ", ",
    "key_separator": ": ",
    "whitespace_flexible": False,
    "lenient": True,
}


def call_schema(tools: Sequence[Tool]) -> dict[str, Any]:
    """JSON Schema of one call `{"name": …, "arguments": {…}}` to any of `tools`."""
    variants = [
        {
            "type": "object",
            # Undeclared arguments cannot be generated, even when a non-strict schema would allow them.
            "properties": {
                "name": {"const": tool.name},
                "arguments": {"additionalProperties": False, **tool.parameters},
            },
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in tools
    ]
    schema: dict[str, Any] = variants[0] if len(variants) == 1 else {"anyOf": variants}
    return {**schema, "x-guidance": JSON_STYLE}


def _literal(text: str, as_token: bool) -> str:
    # A special token must be referenced as a token: the quoted text would be tokenised differently.
    return text if as_token else json.dumps(text)


def tool_call_grammar(
    tools: Sequence[Tool],
    *,
    open_tag: str,
    close_tag: str,
    tags_are_tokens: bool,
    max_calls: int,
    as_list: bool = True,
    min_calls: int = 1,
    sequence: Sequence[Tool] = (),
) -> str:
    """A Lark grammar for min_calls..max_calls calls: `OPEN\n{json}\nCLOSE` blocks separated by newlines, or
    (as_list) one block holding a JSON list of calls. A trailing newline is allowed: Qwen writes one before it
    ends. With `sequence`: exactly one call of each of those tools, in that order (the counts are ignored)."""
    if not tools:
        raise ValueError("a call grammar needs at least one tool")
    if not 1 <= min_calls <= max_calls:
        raise ValueError(f"need 1 <= min_calls ({min_calls}) <= max_calls ({max_calls})")
    open_, close = _literal(open_tag, tags_are_tokens), _literal(close_tag, tags_are_tokens)
    if sequence:
        rules = "".join(f"call{i}: %json {json.dumps(call_schema([tool]))}\n" for i, tool in enumerate(sequence))
        names = [f"call{i}" for i in range(len(sequence))]
        if as_list and len(sequence) > 1:
            listed = ' ", " '.join(names)
            return f'start: {open_} "\\n[" {listed} "]\\n" {close} "\\n"?\n' + rules
        blocks = ' "\\n" '.join(f'{open_} "\\n" {name} "\\n" {close}' for name in names)
        return f'start: {blocks} "\\n"?\n' + rules
    one = f"%json {json.dumps(call_schema(tools))}"
    least, more = min_calls - 1, max_calls - 1
    if as_list and max_calls > 1:
        return f'start: {open_} "\\n[" call (", " call){{{least},{more}}} "]\\n" {close} "\\n"?\ncall: {one}\n'
    repeat = f' ("\\n" block){{{least},{more}}}' if max_calls > 1 else ""
    return f'start: block{repeat} "\\n"?\nblock: {open_} "\\n" {one} "\\n" {close}\n'


def continued_list_grammar(tools: Sequence[Tool], *, close_tag: str, tags_are_tokens: bool, max_calls: int) -> str:
    """A Lark grammar for 1..max_calls more calls of `tools` continuing a JSON list of calls that the prompt opened
    and ended with a comma: " {call}, {call}]" then the close tag."""
    if not tools or max_calls < 1:
        raise ValueError("a continued list needs a tool and room for a call")
    close = _literal(close_tag, tags_are_tokens)
    one = f"%json {json.dumps(call_schema(tools))}"
    return f'start: " " call (", " call){{0,{max_calls - 1}}} "]\\n" {close} "\\n"?\ncall: {one}\n'


def plan_grammar(max_lines: int, tool_names: Sequence[str] = ()) -> str:
    """A numbered list of 1..max_lines short lines, continuing a prompt that ends with "1.": the model's own
    count of the calls a request needs. With `tool_names`, each line is a call: one of those names, then "(" and
    the rest of the line."""
    more = max(max_lines - 1, 0)
    start = f'start: line ("\\n" /[2-9]\\./ line){{0,{more}}} "\\n"?\n'
    if not tool_names:
        return start + "line: LINE\nLINE: / [^\\n]{1,160}/\n"
    names = " | ".join(json.dumps(name) for name in tool_names)
    return start + f'line: " " name "(" REST\nname: {names}\nREST: /[^\\n]{{0,150}}/\n'


def json_grammar(schema: dict[str, Any] | None) -> str:
    """A grammar for one JSON value matching `schema` (any JSON object when None)."""
    body: dict[str, Any] = dict(schema) if schema else {"type": "object"}
    body.setdefault("x-guidance", {**JSON_STYLE, "whitespace_flexible": True})
    return f"start: %json {json.dumps(body)}\n"


def text_grammar() -> str:
    """Free text that starts with a letter or digit, so that it cannot open a call (JSON, tags, fences)."""
    return "start: /[\\p{L}\\p{N}](.|\\n)*/\n"


_NUMBER_GOES_ON = {bytes([b]) for b in b"0123456789.eE"}


class GrammarError(ValueError):
    """The grammar could not be compiled (for example an unsupported schema construct)."""


class GrammarConstraint:
    """A `rixin.models.TokenConstraint` backed by an llguidance matcher."""

    def __init__(
        self,
        tokenizer: Any,
        lark: str,
        n_vocab: int,
        *,
        greedy: bool = False,
        max_number_digits: int | None = None,
        max_repeated_items: int | None = None,
        max_repeated_text: int | None = None,
    ) -> None:
        """With `max_number_digits`, a JSON number outside strings ends after that many digits: JSON Schema
        bounds no number's length, and a small model can write `"distance": 1000000…` until its token limit
        (measured: the 0.5B among 30 tools, 1,600 tokens of zeros, an output that never closed). With
        `max_repeated_items`, a JSON list holding that many equal items in a row takes no more items: the 1.5B
        wrote `"items": ["pumpkin", "pumpkin", …` until its token limit. With `max_repeated_text`, a JSON string whose
        last `REPEAT_SPAN` characters already occur that many times in it ends there (the 0.5B wrote one sentence
        about a novel over and over into a `detail` argument until its token limit: an output that never closed)."""
        import llguidance

        self._matcher = llguidance.LLMatcher(tokenizer, lark, log_level=0)
        if self._matcher.is_error():
            raise GrammarError(self._matcher.get_error())
        self._tokenizer = tokenizer
        self._n_vocab = n_vocab
        self._greedy = greedy
        self._bitmask = np.full(((n_vocab + 31) // 32,), -1, dtype=np.int32)
        self._max_digits = max_number_digits
        self._max_repeats = max_repeated_items
        self._max_text_repeats = max_repeated_text
        self._json = _JsonScanner()
        self._scans_json = any(b is not None for b in (max_number_digits, max_repeated_items, max_repeated_text))
        self.mask_calls = 0

    @property
    def error(self) -> str | None:
        return self._matcher.get_error() or None

    def continues(self, text: str) -> None:
        """The generated text continues `text`, which the prompt ends with (an open list of calls): the JSON
        scanner reads it first, so that nesting depth counts from there."""
        self._json.feed(text)

    def forced_tokens(self) -> list[int]:
        return list(self._matcher.compute_ff_tokens())

    def mask(self, logits: Logits) -> None:
        self.mask_calls += 1
        self._matcher.unsafe_compute_mask_ptr(self._bitmask.ctypes.data, self._bitmask.nbytes)
        if self._max_digits is not None and self._json.digits >= self._max_digits:
            self._apply(logits, shortcut=False)
            self._end_number(logits)
            return
        if self._max_repeats is not None and self._json.equal_items_in_a_row() >= self._max_repeats:
            self._apply(logits, shortcut=False)
            self._end_list(logits)
            return
        if self._max_text_repeats is not None and self._json.string_repeats() >= self._max_text_repeats:
            self._apply(logits, shortcut=False)
            self._end_string(logits)
            return
        self._apply(logits, shortcut=self._greedy)

    def _end_string(self, logits: Logits) -> None:
        """Allow only the tokens that close the string (a quote first), when the grammar allows one."""
        allowed = self.allowed_tokens()
        more = [int(t) for t in allowed if self._tokenizer.decode_bytes([int(t)])[:1] != b'"']
        if len(more) < len(allowed):
            logits[more] = -np.inf

    def _end_number(self, logits: Logits) -> None:
        """Forbid the allowed tokens that would go on with the number (a digit, a decimal point, an exponent),
        when another token is allowed (after "." only a digit may follow)."""
        allowed = self.allowed_tokens()
        more = [int(t) for t in allowed if self._tokenizer.decode_bytes([int(t)])[:1] in _NUMBER_GOES_ON]
        if len(more) < len(allowed):
            logits[more] = -np.inf

    def _end_list(self, logits: Logits) -> None:
        """Forbid the allowed tokens that would start another item (a comma, after any spaces), when another
        token is allowed (the list's end, or more of the item being written)."""
        allowed = self.allowed_tokens()
        more = [int(t) for t in allowed if self._tokenizer.decode_bytes([int(t)]).lstrip()[:1] == b","]
        if len(more) < len(allowed):
            logits[more] = -np.inf

    def _apply(self, logits: Logits, *, shortcut: bool) -> None:
        if shortcut:
            best = int(np.argmax(logits))
            if best < self._n_vocab and (int(self._bitmask[best >> 5]) >> (best & 31)) & 1:
                return  # greedy picks the argmax, which is allowed: masking the rest changes nothing
        allowed = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little")[: len(logits)]
        logits[allowed == 0] = -np.inf

    def allowed_tokens(self) -> npt.NDArray[np.intp]:
        """The tokens the last `mask` allowed."""
        bits = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little")[: self._n_vocab]
        return np.flatnonzero(bits)

    def accept(self, token: int) -> bool:
        if self._scans_json:
            self._json.feed(self._tokenizer.decode_bytes([token]).decode("utf-8", errors="ignore"))
        return bool(self._matcher.consume_token(token))

    def is_finished(self) -> bool:
        return bool(self._matcher.is_stopped())

    def is_accepting(self) -> bool:
        return bool(self._matcher.is_accepting())


class CallListConstraint(GrammarConstraint):
    """The call grammar with a nudge at the one place where the model decides how many calls to make.

    Where the list of calls may end (after a call's closing brace, at the list's own level), `continue_bias`
    is added to the logits of the tokens that continue the list. Small models under-call: measured on
    Qwen2.5-Coder-0.5B, the log-odds of continuing after the first call were about −4 to 0 for requests that
    asked for several calls and about −8 to −11 for single-call requests, so a moderate bias separates them.
    """

    def __init__(
        self,
        tokenizer: Any,
        lark: str,
        n_vocab: int,
        *,
        greedy: bool,
        continue_bias: float,
        max_number_digits: int | None = None,
        max_repeated_items: int | None = None,
        max_repeated_text: int | None = None,
    ) -> None:
        super().__init__(
            tokenizer,
            lark,
            n_vocab,
            greedy=greedy,
            max_number_digits=max_number_digits,
            max_repeated_items=max_repeated_items,
            max_repeated_text=max_repeated_text,
        )
        self._bias = continue_bias
        self._scans_json = True

    def at_list_end_choice(self) -> bool:
        return self._json.depth == 1 and not self._json.in_string and self._json.last == "}"

    def mask(self, logits: Logits) -> None:
        if not (self._bias and self.at_list_end_choice()):
            super().mask(logits)
            return
        self.mask_calls += 1
        self._matcher.unsafe_compute_mask_ptr(self._bitmask.ctypes.data, self._bitmask.nbytes)
        self._apply(logits, shortcut=False)
        for token in self.allowed_tokens():
            if self._tokenizer.decode_bytes([int(token)]).startswith(b","):
                logits[token] += self._bias


@dataclass
class _List:
    """A JSON list being written: the text of its current item, its last finished item, and how many finished
    items in a row equal that one."""

    item: str = ""
    last: str | None = None
    equal_in_a_row: int = 0

    def finish_item(self) -> None:
        item = self.item.strip()
        self.equal_in_a_row = self.equal_in_a_row + 1 if item == self.last else 1
        self.last, self.item = item, ""


REPEAT_SPAN = 60
"""How many trailing characters of a string `max_repeated_text` compares with the rest of it."""


class _JsonScanner:
    """A minimal JSON scanner over generated text: nesting depth outside strings, the last significant
    character, how many digits the number being written has so far, and the open lists' items."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escaped = False
        self.last = ""
        self.digits = 0
        self._open: list[_List | None] = []  # per open bracket: a list, or None for an object
        self._lists: list[_List] = []
        self.string = ""  # the text of the string being written (outside a string: the last one's)

    def feed(self, text: str) -> None:
        for char in text:
            self._track(char)

    def equal_items_in_a_row(self) -> int:
        """How many equal items in a row the innermost list holds once the item being written (outside a
        string) ends: 0 when it is not inside a list or that item differs from the one before."""
        if self.in_string or not self._open or self._open[-1] is None:
            return 0
        current = self._open[-1]
        item = current.item.strip()
        return current.equal_in_a_row + 1 if item and item == current.last else 0

    def string_repeats(self) -> int:
        """Inside a string: how many times its last `REPEAT_SPAN` characters occur in it (0 when shorter)."""
        if not self.in_string or len(self.string) < REPEAT_SPAN:
            return 0
        return self.string.count(self.string[-REPEAT_SPAN:])

    def _track(self, char: str) -> None:
        innermost = self._open[-1] if self._open else None
        if self.in_string:
            self.string += char
            self._add(char, self._lists)
            if self.escaped:
                self.escaped = False
            elif char == "\\":
                self.escaped = True
            elif char == '"':
                self.in_string = False
            return
        if char.isdigit():
            self.digits += 1
        elif char not in ".eE+-":  # still the same number
            self.digits = 0
        if char == '"':
            self.in_string, self.string = True, ""
        elif char in "[{":
            self.depth += 1
        elif char in "]}":
            self.depth -= 1
        if char in ",]" and innermost is not None:  # the innermost list's own comma or end: its item ends
            innermost.finish_item()
            self._add(char, self._lists[:-1])
        else:
            self._add(char, self._lists)
        if char in "[{":
            opened = _List() if char == "[" else None
            self._open.append(opened)
            if opened is not None:
                self._lists.append(opened)
        elif char in "]}" and self._open and self._open.pop() is not None:
            self._lists.pop()  # a list closed
        if not char.isspace():
            self.last = char

    @staticmethod
    def _add(char: str, lists: list[_List]) -> None:
        """An item of an outer list holds everything nested in it."""
        for open_list in lists:
            open_list.item += char


class PlanConstraint(GrammarConstraint):
    """The plan grammar with its end made less likely by `end_penalty` (subtracted from the end-of-turn tokens'
    log-odds wherever the plan may end). Small models end their plan after two lines where a request asks for
    three or four calls; a longer plan costs little, because lines that add nothing stop it and do not count
    (`rixin.calling.plan`)."""

    def __init__(self, tokenizer: Any, lark: str, n_vocab: int, *, end_penalty: float) -> None:
        super().__init__(tokenizer, lark, n_vocab)
        self._ends = [int(t) for t in tokenizer.eos_tokens if int(t) < n_vocab]
        self._penalty = end_penalty

    def mask(self, logits: Logits) -> None:
        self.mask_calls += 1
        self._matcher.unsafe_compute_mask_ptr(self._bitmask.ctypes.data, self._bitmask.nbytes)
        self._apply(logits, shortcut=False)
        for token in self._ends:
            logits[token] -= self._penalty
