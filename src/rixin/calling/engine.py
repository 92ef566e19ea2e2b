"""The function-calling engine: (messages, tools, tool_choice) → a validated assistant message.

For an embedded model: render the conversation in the model's own template; for `auto`, let the model
choose between answering and calling from its first few tokens; generate calls under a grammar built from
the allowed tools' JSON Schemas; parse; validate; and when something is wrong, show the model the error and
regenerate under the constraint. For an endpoint: the server renders and parses, we parse calls it left in
the text, validate, and repair the same way.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from rixin.calling.constrain import (
    CallListConstraint,
    GrammarConstraint,
    GrammarError,
    PlanConstraint,
    continued_list_grammar,
    json_grammar,
    plan_grammar,
    text_grammar,
    tool_call_grammar,
)
from rixin.calling.enumerations import fan_out, scalars
from rixin.calling.families import Family, family_for_template
from rixin.calling.fewshot import Example, nearest_examples
from rixin.calling.formats import as_declared_fraction, with_declared_formats, with_known_ids
from rixin.calling.grounding import (
    Context,
    check_grounding,
    drop_ungrounded_optional,
    without_folded_values,
    without_unsaid_options,
)
from rixin.calling.options import CallingOptions, tuned_options
from rixin.calling.parse import ParsedCall, ParseResult, parse_tool_calls, salvage_truncated
from rixin.calling.plan import (
    ToolHints,
    before_dependent,
    counted_plan_lines,
    next_call_planned,
    numbered,
    plan_stalled,
    planned_arguments,
    planned_call_done,
    planned_tool,
)
from rixin.calling.prompt import render_prompt
from rixin.calling.relevance import best_tool_for, fits, names_written_ids, one_clause_tool, tools_sharing_words
from rixin.calling.results import with_comparison
from rixin.calling.shortlist import clauses, shortlist
from rixin.errors import EndpointError, ToolSchemaError
from rixin.models import EndpointModel, LlamaModel
from rixin.models.llama import Completion
from rixin.tools import Tool, as_tools
from rixin.types import (
    Attempt,
    ChatResult,
    GenerationOptions,
    Message,
    ToolCall,
    ToolChoice,
    Usage,
    as_messages,
    tool_choice_name,
)

Decision = Literal["call", "text"]
_NAME = re.compile(r"[A-Za-z_][\w.\-]*")
_CALL_MARKERS = ("<tool_call>", "<function", "{", "[")


def classify_start(text: str, tool_names: Sequence[str]) -> Decision | None:
    """Does an answer that starts with `text` call a tool? None while it cannot be told yet."""
    start = text.lstrip()
    if start.startswith("```"):
        newline = start.find("\n")
        if newline < 0:
            return None
        start = start[newline + 1 :].lstrip()
    if not start:
        return None
    for marker in _CALL_MARKERS:
        if start.startswith(marker):
            return "call"
        if marker.startswith(start):
            return None
    match = _NAME.match(start)
    if match:
        name = match.group(0)
        known = set(tool_names) | {n.rsplit(".", 1)[-1] for n in tool_names}
        if match.end() == len(start):
            return None if any(n.startswith(name) for n in known) else "text"
        if start[match.end() :].startswith("(") and (name in known or name.rsplit(".", 1)[-1] in known):
            return "call"
    return "text"


class Engine:
    """Implements `rixin.models.ChatModel` over an embedded model or an endpoint."""

    def __init__(self, model: LlamaModel | EndpointModel, options: CallingOptions | None = None) -> None:
        self.model = model
        # an embedded model gets the defaults measured for it; an endpoint's model, the engine's own
        self.options = options or (tuned_options(model.name) if isinstance(model, LlamaModel) else CallingOptions())
        template = model.info.chat_template if isinstance(model, LlamaModel) else None
        self.family: Family = family_for_template(template)

    @property
    def name(self) -> str:
        return self.model.name

    def chat(
        self,
        messages: Sequence[Message | dict[str, Any]],
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = "auto",
        parallel_tool_calls: bool = True,
        options: GenerationOptions | None = None,
        response_format: dict[str, Any] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResult:
        conversation = as_messages(messages)
        tool_list = as_tools(tools or [])
        choice = tool_choice_name(tool_choice)
        allowed = tool_list
        if choice.startswith("function:"):
            wanted = choice.split(":", 1)[1]
            allowed = [t for t in tool_list if t.name == wanted]
            if not allowed:
                names = ", ".join(t.name for t in tool_list) or "none"
                raise ToolSchemaError(f"tool_choice names {wanted!r}, which is not among the tools ({names})")
        if choice == "required" and not tool_list:
            raise ToolSchemaError("tool_choice 'required' needs at least one tool")
        if self.options.shortlist and choice in ("auto", "required"):
            tool_list = allowed = shortlist(
                tool_list,
                conversation,
                self.options.shortlist,
                size=self.options.shortlist_size,
                per_clause=self.options.shortlist_per_clause,
            )
        run = _Run(self, conversation, tool_list, allowed, choice, parallel_tool_calls, options or GenerationOptions())
        started = time.perf_counter()
        if isinstance(self.model, EndpointModel):
            result = run.on_endpoint(self.model, response_format, on_text)
        else:
            result = run.on_llama(self.model, response_format, on_text)
        result.timings["total_s"] = time.perf_counter() - started
        return result


@dataclass
class _Checked:
    calls: list[ToolCall]
    problems: list[str]
    content: str | None


_UNRELATED = " (unrelated to the request)"
"""Marks, among the reasons calls were dropped, a tool that `ground_tools` found unrelated to the request."""


def _reasons(missing: list[str]) -> tuple[list[str], list[str]]:
    """The reasons calls were dropped, split: values nobody gave ("f (London)"), and unrelated tools' names."""
    values = [reason for reason in missing if not reason.endswith(_UNRELATED)]
    unrelated = [reason.removesuffix(_UNRELATED) for reason in missing if reason.endswith(_UNRELATED)]
    return values, unrelated


class _Run:
    """The state of one `Engine.chat` request."""

    def __init__(
        self,
        engine: Engine,
        conversation: list[Message],
        tools: list[Tool],
        allowed: list[Tool],
        choice: str,
        parallel: bool,
        generation: GenerationOptions,
    ) -> None:
        self.engine, self.options, self.family = engine, engine.options, engine.family
        self.conversation, self.tools, self.allowed = conversation, tools, allowed
        # A named tool_choice asks for that one call.
        self.choice, self.generation = choice, generation
        self.parallel = parallel and not choice.startswith("function:")
        self.attempts: list[Attempt] = []
        self.usage = Usage()
        self.timings: dict[str, float] = {"prompt_s": 0.0, "generation_s": 0.0}
        self.on_text: Callable[[str], None] | None = None
        self._examples: list[Example] | None = None
        self._context: Context | None = None
        self.self_checked = False
        self.retried_others = False
        self.covered_clauses = False  # `cover_clauses`: once per request
        self.completed_clauses = False  # `complete_clauses`: once per request
        self.looked_up = False
        self.counted_plan: list[str] = []  # the plan lines that counted, for `plan_fallback`
        self.plan_done = False  # `plan_tools`: every counted line of the plan repeats a call already made
        self.plan_holds_tools = False  # `plan_tools`: each call must use the tool its counted line names

    # -- validation, shared by both paths ----------------------------------------------------------------
    def check(self, parsed: ParseResult) -> _Checked:
        problems = list(parsed.errors)
        by_name = {t.name: t for t in self.allowed}
        calls: list[ToolCall] = []
        seen: set[str] = set()  # each call as a key, for `drop_duplicates`
        for call in parsed.calls:
            tool = by_name.get(call.name)
            if tool is None:
                available = ", ".join(by_name) or "none"
                problems.append(f"unknown function {call.name!r} (available: {available})")
                continue
            problems.extend(f"{call.name}: {p}" for p in tool.validate_arguments(call.arguments))
            key = json.dumps([call.name, call.arguments], sort_keys=True)
            if not (key in seen and self.options.drop_duplicates):
                calls.append(ToolCall.make(call.name, call.arguments))
            seen.add(key)
        if self.options.reject_call_values and calls and not problems:
            calls, problems = self.without_call_values(calls)
        if not self.parallel:
            calls = calls[:1]
        return _Checked(calls, problems, parsed.content)

    def without_call_values(self, calls: list[ToolCall]) -> tuple[list[ToolCall], list[str]]:
        """`reject_call_values`: the calls less those with a tool's call written into an argument
        (`value="read_cell('B5') - read_cell('B2')"`): that value is a result the model does not have yet. When
        every call has one, none is kept and each is a problem to repair."""
        names = {t.name for t in self.tools}

        def calls_a_tool(value: Any) -> bool:
            # Every function it calls is a tool: code that calls a tool among other functions
            # (`print(get_weather("Paris"))`) is a program, not a value written in place of a result.
            called = _CALLED.findall(value) if isinstance(value, str) and "\n" not in value else []
            return bool(called) and all(name in names for name in called)

        problems: list[str] = []
        kept: list[ToolCall] = []
        for call in calls:
            value = next((v for v in _argument_values(call) if calls_a_tool(v)), None)
            if value is None:
                kept.append(call)
            else:
                problems.append(
                    f"{call.name}: the argument {value!r} is a call, not a value; make that call first, or use "
                    "the value its result gave"
                )
        return (kept, []) if kept else ([], problems)

    def salvage(self, text: str) -> _Checked | None:
        """The valid calls in output cut off at the token limit (`salvage_truncated`); None when there are none."""
        if not self.options.salvage_truncated or not (calls := salvage_truncated(text)):
            return None
        checked = self.check(ParseResult(calls, None, []))
        return checked if checked.calls and not checked.problems else None

    def parse(self, text: str) -> ParseResult:
        signatures = {t.name: list(t.parameters.get("properties", {})) for t in self.tools}
        return parse_tool_calls(text, signatures, self.family.call_open, self.family.call_close)

    def repair_messages(self, raw: str, problems: list[str]) -> list[Message]:
        listing = "; ".join(problems[:8])
        return [
            Message(role="assistant", content=raw),
            Message(
                role="user",
                content=f"That function call is not valid: {listing}. "
                "Call the function again with corrected name and arguments, following its JSON schema exactly.",
            ),
        ]

    def record(self, stage: str, completion: Completion, error: str | None = None) -> None:
        self.attempts.append(
            Attempt(
                stage=stage,
                raw_output=completion.text,
                error=error,
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=len(completion.tokens),
                seconds=completion.prompt_seconds + completion.generation_seconds,
            )
        )
        self.usage = self.usage + Usage(
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=len(completion.tokens),
            total_tokens=completion.prompt_tokens + len(completion.tokens),
        )
        self.timings["prompt_s"] += completion.prompt_seconds
        self.timings["generation_s"] += completion.generation_seconds

    def result(self, message: Message, raw: str, finish: str, error: str | None = None) -> ChatResult:
        return ChatResult(
            message=message,
            finish_reason="error" if error else finish,  # type: ignore[arg-type]
            usage=self.usage,
            model=self.engine.name,
            raw_output=raw,
            error=error,
            attempts=self.attempts,
            timings=self.timings,
        )

    def calls_result(self, checked: _Checked, raw: str) -> ChatResult:
        return self.result(Message(role="assistant", content=None, tool_calls=checked.calls), raw, "tool_calls")

    # -- embedded model --------------------------------------------------------------------------------------
    def on_llama(
        self, model: LlamaModel, response_format: dict[str, Any] | None, on_text: Callable[[str], None] | None
    ) -> ChatResult:
        if not self.tools or self.choice == "none":
            return self.answer(model, response_format, on_text)
        self.on_text = on_text
        if self.acted_enough():
            return self.final_answer(model)
        prompt = self.prompt(model, self.conversation)
        planned_next = (
            self.next_call_planned(model, prompt) if self.choice == "auto" and self.options.plan_next else None
        )
        if planned_next is not None:  # the call the model itself named as still needed
            self.allowed = [t for t in self.allowed if t.name == planned_next] or self.allowed
            return self.call(model, self.conversation)
        if self.choice == "auto" and (self.options.decide_first or not self.options.constrained):
            decided = self.auto(model, prompt, on_text)
            if decided is not None:
                return decided
        return self.call(model, self.conversation)

    def prompt(self, model: LlamaModel, conversation: list[Message], with_tools: bool = True) -> str:
        if with_tools and self.options.few_shot:
            conversation = self.family.with_examples(conversation, self.examples())
        if self.options.compare_results:
            conversation = with_comparison(conversation)
        if with_tools and self.options.remind_request and self.choice == "auto":
            conversation = self.family.remind_request(conversation)
        return render_prompt(
            model.info.chat_template,
            self.family,
            conversation,
            self.tools if with_tools else None,
            bos_token=model.info.bos_token,
            eos_token=model.info.eos_token,
        )

    def examples(self) -> list[Example]:
        if self._examples is None:
            request = "\n".join(m.content or "" for m in self.conversation if m.role == "user")
            self._examples = nearest_examples(request, self.options.few_shot)
        return self._examples

    def generate(self, model: LlamaModel, prompt: str | list[int], stage: str, **kwargs: Any) -> Completion:
        generation = kwargs.pop("options", self.generation)
        completion = model.generate(prompt, generation, reuse_prefix=self.options.reuse_prefix, **kwargs)
        self.record(stage, completion, completion.error)
        return completion

    def answer(
        self, model: LlamaModel, response_format: dict[str, Any] | None, on_text: Callable[[str], None] | None
    ) -> ChatResult:
        """A text (or JSON) answer, with no calls."""
        prompt = self.prompt(model, self.conversation, with_tools=False)
        constraint = None
        kind = (response_format or {}).get("type", "text")
        if kind in ("json_object", "json_schema"):
            spec = response_format.get("json_schema", {}) if response_format else {}
            schema = spec.get("schema") if isinstance(spec, dict) else None
            constraint = self.constraint(model, json_grammar(schema))
        completion = self.generate(model, prompt, "answer", constraint=constraint, on_text=on_text)
        finish = "length" if completion.finish_reason == "length" else "stop"
        return self.result(Message(role="assistant", content=completion.text), completion.text, finish)

    def auto(self, model: LlamaModel, prompt: str, on_text: Callable[[str], None] | None) -> ChatResult | None:
        """Let the model choose between answering and calling; None means: generate a call."""
        names = [t.name for t in self.tools]
        prompt_tokens = model.tokenize(prompt)
        if self.options.decide_first and self.options.constrained:
            probe_options = self.generation.model_copy(
                update={"max_tokens": min(self.options.probe_tokens, self.generation.max_tokens)}
            )
            decided: list[Decision] = []

            def stop_when_decided(text: str) -> bool:
                decision = classify_start(text, names)
                if decision is not None:
                    decided.append(decision)
                return decision is not None

            probe = self.generate(model, prompt_tokens, "decide", options=probe_options, stop_when=stop_when_decided)
            if classify_start(probe.text, names) == "call":
                return None
            if on_text and probe.text:
                on_text(probe.text)
            rest_options = self.generation.model_copy(
                update={"max_tokens": max(1, self.generation.max_tokens - len(probe.tokens))}
            )
            # The probe ended the answer itself (end of generation or a stop string), not because it decided.
            done = probe.finish_reason == "stop" and not decided
            rest = (
                None
                if done
                else self.generate(model, prompt_tokens + probe.tokens, "answer", options=rest_options, on_text=on_text)
            )
            text = probe.text + (rest.text if rest else "")
            finish = rest.finish_reason if rest else probe.finish_reason
        else:
            completion = self.generate(model, prompt_tokens, "answer", on_text=on_text)
            text, finish = completion.text, completion.finish_reason
        parsed = self.parse(text)
        if not parsed.calls and self.family.echoes_result(text):
            # Small models sometimes "answer" by echoing a tool result; ask again for words only.
            words = self.constraint(model, text_grammar())
            completion = self.generate(model, prompt_tokens, "answer", constraint=words)
            text, finish = completion.text, completion.finish_reason
            parsed = self.parse(text)
        if not parsed.calls and not parsed.errors:
            return self.result(
                Message(role="assistant", content=text), text, "length" if finish == "length" else "stop"
            )
        checked = self.check(parsed)
        if not checked.problems and checked.calls:
            return self.grounded_result(model, checked, text)
        # The model tried to call but got it wrong: record why, and repair from its attempt.
        problems = checked.problems or ["no function call found in the output"]
        self.attempts[-1].error = "; ".join(problems)
        return self.call(model, self.conversation + self.repair_messages(text, problems), repairing=True)

    def next_call_planned(self, model: LlamaModel, prompt: str) -> str | None:
        """After tool results (constrained only): the tool of the first call in the model's list of the calls still
        needed that is not yet made and has a value the conversation holds (None: no such call)."""
        if not self.conversation or self.conversation[-1].role != "tool" or not self.options.constrained:
            return None
        plan = self.planned_lines(model, prompt + self.family.next_plan_prefix)
        if plan is None:
            return None
        context = "\n".join(m.content or "" for m in self.conversation if m.role in ("user", "tool"))
        return next_call_planned(plan, context, {t.name for t in self.allowed}, _calls_made(self.conversation))

    def call(
        self,
        model: LlamaModel,
        conversation: list[Message],
        *,
        repairing: bool = False,
        plan: list[str] | None = None,
    ) -> ChatResult:
        """Generate calls (under the constraint when enabled), validating and repairing; `plan`: counted plan
        lines already made (None: plan here when planning is on)."""
        last_raw, problems = "", ["no call was produced"]
        first_stage = "call" if plan is None else "fallback"
        if plan is None:
            plan = self.plan(model, conversation) if self.plans_calls() and not repairing else []
            self.counted_plan = plan
            if self.plan_done and self.choice == "auto":
                return self.final_answer(model)
        planned = min(len(plan), self.options.max_parallel_calls) or None
        if first_stage == "call" and not repairing and (taken := self.take_planned(plan[:planned])) is not None:
            return self.made(model, taken, conversation, numbered(plan[:planned]))
        sequence = self.planned_tools(plan[:planned]) if self.plan_holds_tools else []
        for attempt in range(self.options.max_repairs + 1):
            prompt = self.prompt(model, conversation)
            if plan and self.options.plan_in_prompt:  # the calls follow the grounded lines of the plan
                prompt += self.family.plan_prefix + numbered(plan[:planned])
            constraint = self.call_constraint(model, planned, sequence) if self.options.constrained else None
            stage = "repair" if repairing or attempt > 0 else first_stage
            completion = self.generate(model, prompt, stage, constraint=constraint)
            last_raw = completion.text
            checked = self.check(self.parse(completion.text))
            if completion.finish_reason == "length" and not checked.calls:
                checked = self.salvage(completion.text) or checked
            problems = checked.problems or ([] if checked.calls else ["no function call found in the output"])
            if completion.finish_reason == "length" and not checked.calls:
                problems.append("the call was cut off at max_tokens")
            self.attempts[-1].error = "; ".join(problems) or None
            if not problems:
                return self.made(model, checked, conversation, completion.text)
            conversation = conversation + self.repair_messages(completion.text, problems)
        error = f"no valid function call after {self.options.max_repairs + 1} attempts: {'; '.join(problems)}"
        return self.result(Message(role="assistant", content=None), last_raw, "error", error=error)

    def made(self, model: LlamaModel, checked: _Checked, conversation: list[Message], raw: str) -> ChatResult:
        """Valid calls: less repeats of calls already answered and those resting on values nobody gave."""
        if self.choice == "auto" and self.options.stop_repeats:
            # a call whose result the model already has would act twice (book the same seat again)
            fresh = _unanswered(checked.calls, conversation)
            if not fresh:
                return self.final_answer(model)
            checked = replace(checked, calls=fresh)
        return self.grounded_result(model, checked, raw)

    def take_planned(self, lines: list[str]) -> _Checked | None:
        """`take_planned_calls`: the counted plan lines as the calls, when they are two or more calls of one tool,
        each written out in full and valid (None: generate the calls)."""
        if not self.options.take_planned_calls or len(lines) < 2:
            return None
        allowed = {t.name for t in self.allowed}
        names = {planned_tool(line, allowed) for line in lines}
        arguments = [planned_arguments(line) for line in lines]
        if len(names) != 1 or None in names or any(a is None for a in arguments):
            return None
        name = names.pop() or ""
        checked = self.check(ParseResult([ParsedCall(name, a or {}, "plan") for a in arguments], None, []))
        if checked.problems or len(checked.calls) < 2:
            return None
        self.attempts.append(Attempt(stage="plan_taken", raw_output=numbered(lines)))
        return checked

    def ground(self, checked: _Checked) -> tuple[_Checked, list[str]]:
        """The calls less guessed optional arguments and, where `grounds_calls`, less the calls resting on values
        nobody gave; with what those lacked when no call is left (then also recorded on the last attempt)."""
        checked = self.without_guessed_options(self.unfolded(checked))
        checked = self.in_declared_fractions(self.with_said_options(checked))
        if not self.grounds_calls():
            return checked, []
        kept, missing = self.split_grounded(checked.calls)
        if kept:
            return replace(checked, calls=kept), []
        values, unrelated = _reasons(missing)
        self.attempts[-1].error = "; ".join(
            part
            for part in (
                "values not found in the conversation: " + "; ".join(values) if values else "",
                "tools unrelated to the request: " + ", ".join(unrelated) if unrelated else "",
            )
            if part
        )
        return replace(checked, calls=[]), missing

    def grounded_result(self, model: LlamaModel, checked: _Checked, raw: str) -> ChatResult:
        """The calls, less those resting on values nobody gave; words instead when none is left."""
        dropped = {call.function.name for call in checked.calls}
        checked, missing = self.ground(checked)
        if checked.calls:
            checked = self.with_clause_calls(model, self.with_one_tool_per_clause(checked))
            return self.calls_result(self.fanned_out(checked), raw)
        planned = self.planned_instead(dropped)
        if planned:
            names = {line_tool for _, line_tool in planned}
            self.counted_plan = []  # one fallback per request
            self.allowed = [t for t in self.allowed if t.name in names]
            return self.call(model, self.conversation, plan=[line for line, _ in planned])
        second_chance = self.second_chance(dropped)
        if second_chance:  # all tools stay listed in the prompt; only these are allowed
            self.allowed = second_chance
            return self.call(model, self.conversation, plan=[])
        if self.options.self_check and not self.self_checked:
            return self.check_against_request(model, raw, missing)
        conversation = self.family.ask_without_call(self.conversation, *_reasons(missing))
        completion = self.generate(
            model, self.prompt(model, conversation), "answer", constraint=self.constraint(model, text_grammar())
        )
        if self.on_text and completion.text:
            self.on_text(completion.text)
        finish = "length" if completion.finish_reason == "length" else "stop"
        return self.result(Message(role="assistant", content=completion.text), completion.text, finish)

    def with_one_tool_per_clause(self, checked: _Checked) -> _Checked:
        """`one_tool_per_clause`: on a request's first turn, a request of one clause keeps only the calls of the
        tool among those called that fits it best in words (rixin.calling.relevance.one_clause_tool), and those of
        tools that say they only read."""
        if not self.options.one_tool_per_clause or not self.first_parallel_turn():
            return checked
        by_name = {t.name: t for t in self.allowed}
        used = [by_name[n] for n in dict.fromkeys(c.function.name for c in checked.calls) if n in by_name]
        best = one_clause_tool(self.last_request(), used)
        if best is None:
            return checked
        # A lookup beside the act may be the step the act needs (list the day's events, then move the last one).
        kept = [
            c
            for c in checked.calls
            if c.function.name == best.name or c.function.name not in by_name or by_name[c.function.name].read_only
        ]
        return replace(checked, calls=kept)

    def with_clause_calls(self, model: LlamaModel, checked: _Checked) -> _Checked:
        """`complete_clauses`: the calls, plus those the model makes continuing their list with only the tools that
        clauses no call used fit best, grounded as the calls were (once per request)."""
        tools = self.clause_tools_not_called(checked.calls)
        room = self.options.max_parallel_calls - len(checked.calls)
        if not tools or room < 1:
            return checked
        self.completed_clauses = True
        written = ", ".join(
            json.dumps({"name": c.function.name, "arguments": c.parsed_arguments()}, ensure_ascii=False)
            for c in checked.calls
        )
        opened = f"\n[{written},"
        lark = continued_list_grammar(
            self.as_constrained(tools),
            close_tag=self.family.call_close,
            tags_are_tokens=len(model.tokenize(self.family.call_open)) == 1,
            max_calls=room,
        )
        constraint = self.call_list_constraint(model, lark)
        constraint.continues(opened)
        prompt = self.prompt(model, self.conversation) + self.family.call_open + opened
        completion = self.generate(model, prompt, "clauses", constraint=constraint)
        more = self.check(self.parse(f"{self.family.call_open}\n[{completion.text}"))
        made = {_call_key(c.function.name, c.function.arguments) for c in checked.calls}
        fresh = [c for c in more.calls if _call_key(c.function.name, c.function.arguments) not in made]
        if more.problems or not fresh:
            self.attempts[-1].error = "; ".join(more.problems) or "no call beyond those made"
            return checked
        extra, _ = self.ground(replace(more, calls=fresh))
        return replace(checked, calls=checked.calls + extra.calls)

    def fanned_out(self, checked: _Checked) -> _Checked:
        """`fan_out_lists`: the calls, plus the same call with each value of a list the request writes where a call
        holds one of them and none holds another (rixin.calling.enumerations)."""
        if not self.options.fan_out_lists or not self.first_parallel_turn():
            return checked
        request = self.last_request()
        calls = [(c.function.name, c.parsed_arguments()) for c in checked.calls]
        more = fan_out(calls, request, self.schemas(), self.options.max_parallel_calls)[len(calls) :]
        by_name = {t.name: t for t in self.allowed}
        valid = [ToolCall.make(n, a) for n, a in more if n in by_name and not by_name[n].validate_arguments(a)]
        if valid:
            self.attempts.append(Attempt(stage="fan_out", raw_output=json.dumps([c.model_dump() for c in valid])))
        return replace(checked, calls=checked.calls + valid)

    def last_request(self) -> str:
        """What the user said last (the request the clause and list checks read)."""
        return next((m.content or "" for m in reversed(self.conversation) if m.role == "user"), "")

    def first_parallel_turn(self) -> bool:
        """Whether the calls are the first of a request that may take several at once, with or without a tool."""
        return (
            self.parallel
            and self.choice in ("auto", "required")
            and not any(m.role == "tool" for m in self.conversation)
        )

    def clause_tools_not_called(self, calls: list[ToolCall]) -> list[Tool]:
        """For `complete_clauses`, before any tool result, with parallel calls in a list: for each clause of the
        user's request, the tool that fits it best in words (`relevance.best_tool_for`), where no call used it.
        None where a call is a lookup (its tool says it only reads): the other clauses may wait for its result —
        the 1.5B, completing "read C3 and write double it into E3", wrote E3 = 2 (docs/results.md §29)."""
        read_only = {t.name for t in self.allowed if t.read_only}
        if (
            not self.options.complete_clauses
            or self.completed_clauses
            or not self.first_parallel_turn()
            or not self.as_list()
            or not self.options.constrained
            or any(c.function.name in read_only for c in calls)
        ):
            return []
        request = self.last_request()
        parts = clauses(request)
        called = {c.function.name for c in calls}
        best = [best_tool_for(part, self.allowed) for part in parts] if len(parts) > 1 else []
        names = {t.name for t in best if t is not None and t.name not in called}
        return [t for t in self.allowed if t.name in names]

    def second_chance(self, dropped: set[str]) -> list[Tool]:
        """The tools to generate the calls once more with before answering in words, when every call was dropped
        (each chance once per request): `lookup_first`'s tools that only read, else `retry_other_tools`'s other
        tools. The model skipped ahead (cancel event "e3" that nobody named): a lookup may find the value first."""
        lookups = self.lookups(dropped)
        if lookups:
            self.looked_up = True
            return lookups
        others = [t for t in self.allowed if t.name not in dropped]
        if self.options.retry_other_tools and others and not self.retried_others:
            self.retried_others = True
            return others
        return []

    def lookups(self, dropped: set[str]) -> list[Tool]:
        """For `lookup_first`, once per request: the tools that only read, other than the `dropped` calls' tools,
        when one of those calls would have acted (none when every dropped call only read, or no tool says it
        only reads)."""
        if not self.options.lookup_first or self.looked_up:
            return []
        by_name = {t.name: t for t in self.allowed}
        if all(by_name[name].read_only for name in dropped if name in by_name):
            return []
        return [t for t in self.allowed if t.read_only and t.name not in dropped]

    def planned_instead(self, dropped: set[str]) -> list[tuple[str, str]]:
        """For `plan_fallback`: the counted plan lines with the tool each names, when every counted line names
        an allowed tool and none of them is among the `dropped` calls' tools (else none)."""
        if not self.options.plan_fallback or not self.counted_plan:
            return []
        names = {t.name for t in self.allowed}
        tools = [planned_tool(line, names) for line in self.counted_plan]
        if any(tool is None or tool in dropped for tool in tools):
            return []
        return [(line, tool) for line, tool in zip(self.counted_plan, tools, strict=True) if tool is not None]

    def check_against_request(self, model: LlamaModel, raw: str, missing: list[str]) -> ChatResult:
        """One more try (`self_check`): the model sees its call and the values the request does not contain,
        and either calls again with the request's values or answers in words."""
        self.self_checked = True
        original = self.conversation
        self.conversation = original + self.family.check_against_request(raw, missing)
        try:
            decided = self.auto(model, self.prompt(model, self.conversation), self.on_text)
            return decided if decided is not None else self.call(model, self.conversation)
        finally:
            self.conversation = original

    def grounding_context(self) -> Context:
        """The words and numbers of the conversation as the caller gave it (not the engine's own retries)."""
        if self._context is None:
            self._context = Context("\n".join(m.content or "" for m in self.conversation))
        return self._context

    def schemas(self) -> dict[str, dict[str, Any]]:
        return {t.name: t.parameters for t in self.allowed}

    def grounds_calls(self) -> bool:
        """Whether to drop calls resting on values nobody gave: for `auto`, before any tool result. Later turns
        compute values from results (double a cell, the gap between two numbers) that no text contains."""
        return (
            self.choice == "auto" and self.options.ground_calls and not any(m.role == "tool" for m in self.conversation)
        )

    def without_guessed_options(self, checked: _Checked) -> _Checked:
        if not self.options.ground_optional or self.choice.startswith("function:") or self.choice == "none":
            return checked
        return self.with_arguments(checked, drop_ungrounded_optional)

    def unfolded(self, checked: _Checked) -> _Checked:
        """`unfold_values`: numbers another argument holds taken off a string's ends
        (rixin.calling.grounding.without_folded_values)."""
        if not self.options.unfold_values:
            return checked
        return self.with_arguments(checked, without_folded_values)

    def with_said_options(self, checked: _Checked) -> _Checked:
        """`ground_option_lists`: lists of enum choices cut to those the conversation names
        (rixin.calling.grounding.without_unsaid_options)."""
        if not self.options.ground_option_lists:
            return checked
        return self.with_arguments(checked, without_unsaid_options)

    def with_arguments(
        self, checked: _Checked, rewrite: Callable[[dict[str, Any], dict[str, Any], Context], dict[str, Any]]
    ) -> _Checked:
        """The calls with their arguments rewritten against their tool's schema and the conversation."""
        context, schemas = self.grounding_context(), self.schemas()
        calls = []
        for call in checked.calls:
            arguments = call.parsed_arguments()
            kept = rewrite(arguments, schemas.get(call.function.name, {}), context)
            calls.append(call if kept == arguments else ToolCall.make(call.function.name, kept, call.id))
        return replace(checked, calls=calls)

    def in_declared_fractions(self, checked: _Checked) -> _Checked:
        """`declared_fractions`: shares the user gave as percentages, in the form each number's description declares
        (rixin.calling.formats.as_declared_fraction)."""
        if not self.options.declared_fractions:
            return checked
        said = "\n".join(m.content or "" for m in self.conversation if m.role == "user")
        schemas, calls = self.schemas(), []
        for call in checked.calls:
            properties = schemas.get(call.function.name, {}).get("properties", {})
            arguments = call.parsed_arguments()
            converted = {
                key: as_declared_fraction(value, str(properties[key].get("description", "")), said)
                if isinstance(properties.get(key), dict) and properties[key].get("type") == "number"
                else value
                for key, value in arguments.items()
            }
            calls.append(call if converted == arguments else ToolCall.make(call.function.name, converted, call.id))
        return replace(checked, calls=calls)

    def split_grounded(self, calls: list[ToolCall]) -> tuple[list[ToolCall], list[str]]:
        """The calls whose checked values all occur in the conversation, and what the others lacked."""
        context, schemas = self.grounding_context(), self.schemas()
        kept: list[ToolCall] = []
        missing: list[str] = []
        for call in calls:
            verdict = check_grounding(call.parsed_arguments(), schemas.get(call.function.name, {}), context)
            if verdict.missing:
                missing.append(f"{call.function.name} ({', '.join(verdict.missing)})")
            elif not self.tool_fits(call):
                missing.append(call.function.name + _UNRELATED)
            else:
                kept.append(call)
        return kept, missing

    def tool_fits(self, call: ToolCall) -> bool:
        """`ground_tools`: whether the call's tool only reads, acts on an id the request wrote, or fits the
        user's request in words or in meaning (rixin.calling.relevance)."""
        tool = next((t for t in self.allowed if t.name == call.function.name), None)
        if not self.options.ground_tools or tool is None or tool.read_only:
            return True
        request = "\n".join(m.content or "" for m in self.conversation if m.role == "user")
        if names_written_ids(request, call.parsed_arguments()):
            return True
        return fits(request, tool.name, tool.description, tool.parameters, self.options.tool_similarity)

    def final_answer(self, model: LlamaModel) -> ChatResult:
        """The model asked again for results it already has: make it answer from them, in words (with
        `cover_clauses`, first the call a part of the request no call has served yet)."""
        uncovered = self.uncovered_clause_tools()
        if uncovered:
            self.covered_clauses, self.allowed = True, uncovered
            return self.call(model, self.conversation, plan=[])
        conversation = self.family.ask_for_answer(self.conversation)
        prompt = self.prompt(model, conversation, with_tools=False)
        completion = self.generate(model, prompt, "answer", constraint=self.constraint(model, text_grammar()))
        finish = "length" if completion.finish_reason == "length" else "stop"
        return self.result(Message(role="assistant", content=completion.text), completion.text, finish)

    def acted_enough(self) -> bool:
        """`answer_when_acted`: after tool results, whether the calls that acted and succeeded (of tools other than
        those that say they only read) are at least as many as the request's clauses (False where no tool says it
        only reads: then nothing tells a lookup from an act)."""
        if not self.options.answer_when_acted or self.choice != "auto" or not any(t.read_only for t in self.tools):
            return False
        results = {m.tool_call_id: m.content or "" for m in self.conversation if m.role == "tool"}
        acting = {t.name for t in self.tools if not t.read_only}
        acted = sum(
            1
            for m in self.conversation
            if m.role == "assistant"
            for c in m.tool_calls or []
            if c.function.name in acting and c.id in results and not _failed(results[c.id])
        )
        request = self.last_request()
        return acted > 0 and acted >= len(clauses(request))

    def uncovered_clause_tools(self) -> list[Tool]:
        """For `cover_clauses`, after tool results, once per request: the tools that share a word with the first
        clause of the user's request that shares words with some tools but with none of those called so far (none
        when every such clause is served, or the request is one clause)."""
        if not self.options.cover_clauses or self.covered_clauses or self.choice != "auto":
            return []
        if not any(m.role == "tool" for m in self.conversation):
            return []
        request = self.last_request()
        parts = clauses(request)
        called = {c.function.name for m in self.conversation for c in m.tool_calls or []}
        for part in parts if len(parts) > 1 else []:
            sharing = tools_sharing_words(part, self.tools)
            if sharing and not any(t.name in called for t in sharing):
                return sharing
        return []

    def constraint(self, model: LlamaModel, lark: str, *, json_bounds: bool = False) -> GrammarConstraint:
        """`json_bounds`: the options' bounds on JSON numbers and lists apply (calls)."""
        return GrammarConstraint(
            model.constraint_tokenizer(),
            lark,
            model.info.n_vocab,
            greedy=self.generation.temperature <= 0,
            max_number_digits=self.options.max_number_digits if json_bounds else None,
            max_repeated_items=self.options.max_repeated_items if json_bounds else None,
            max_repeated_text=self.options.max_repeated_text if json_bounds else None,
        )

    def as_list(self) -> bool:
        return self.family.parallel_as_list if self.options.parallel_as_list is None else self.options.parallel_as_list

    def plans_calls(self) -> bool:
        return self.options.plan_calls and self.options.constrained and self.parallel and self.as_list()

    def plan(self, model: LlamaModel, conversation: list[Message]) -> list[str]:
        """The lines of the model's own plan that are grounded in the request, one per call (none: let the model
        decide how many)."""
        if self.generation.max_tokens < 16:  # no room for a plan worth having within the caller's budget
            return []
        # Following the plan after tool results, the results ground its lines too (an id a search returned).
        results = any(m.role == "tool" for m in conversation)
        as_calls = self.plans_as_calls(results)
        holds_tools = as_calls and self.options.plan_tools  # `plan_tools`: the calls follow the plan's steps
        follow = holds_tools and results
        roles = ("user", "tool") if follow else ("user",)
        request = "\n".join(m.content or "" for m in conversation if m.role in roles)
        combinations, hints = self.options.plan_combinations, self.plan_hints()

        def stop_when_a_line_adds_nothing(text: str) -> bool:
            # Once a finished line brings nothing new, the rest of the list is invention: stop paying for it.
            return plan_stalled(text.split("\n")[:-1], request, combinations=combinations, keyed=follow, hints=hints)

        prompt = self.prompt(model, conversation) + self.family.plan_prefix
        plan = self.planned_lines(
            model,
            prompt,
            end_penalty=self.options.plan_end_penalty,
            stop_when=stop_when_a_line_adds_nothing,
            as_calls=[t.name for t in self.allowed] if as_calls else [],
        )
        if plan is None:
            return []
        if follow:
            return self.lines_after_results(plan, request, conversation)
        if holds_tools and (cut := before_dependent(plan, {t.name for t in self.allowed})) is not plan:
            self.plan_holds_tools = True  # a planned call needs another's result: make the first ones, as planned
            plan = cut
        return counted_plan_lines(plan, request, combinations=combinations, hints=hints)

    def plan_hints(self) -> ToolHints:
        """What plan counting may use of the tools offered (`plan_tools_apart`, `plan_options_apart`)."""
        return ToolHints.of(
            self.allowed, tools_apart=self.options.plan_tools_apart, options_apart=self.options.plan_options_apart
        )

    def plans_as_calls(self, after_results: bool) -> bool:
        """Whether this plan's lines must be calls (`plan_as_calls`; `plan_as_calls_after_results`)."""
        return self.options.plan_as_calls and (after_results or not self.options.plan_as_calls_after_results)

    def lines_after_results(self, plan: str, context: str, conversation: list[Message]) -> list[str]:
        """`plan_tools` after tool results: the counted lines that repeat no call made, each call held to its
        line's tool (`plan_done` when lines counted and every one repeats a call made)."""
        names = {t.name for t in self.allowed}
        combinations, hints = self.options.plan_combinations, self.plan_hints()
        lines = counted_plan_lines(plan, context, combinations=combinations, keyed=True, hints=hints)
        made = _calls_made(conversation)
        fresh = [line for line in lines if not planned_call_done(line, context, names, made)]
        self.plan_done = bool(lines) and not fresh
        self.plan_holds_tools = True
        return fresh

    def planned_tools(self, lines: list[str]) -> list[Tool]:
        """The tools the lines call, in order (none unless every line calls an allowed tool)."""
        by_name = {t.name: t for t in self.allowed}
        tools = [by_name.get(planned_tool(line, set(by_name)) or "") for line in lines]
        return [t for t in tools if t is not None] if all(tools) else []

    def planned_lines(
        self,
        model: LlamaModel,
        prompt: str,
        *,
        end_penalty: float = 0.0,
        stop_when: Callable[[str], bool] | None = None,
        as_calls: Sequence[str] = (),
    ) -> str | None:
        """The model's numbered list of calls, continuing `prompt` (which ends with "1.") under the plan grammar
        (None: the grammar could not be built); with `as_calls`, each line calls one of those tools."""
        limit = self.options.max_parallel_calls
        options = self.generation.model_copy(update={"max_tokens": min(48 * limit, self.generation.max_tokens)})
        lark = plan_grammar(limit, as_calls)
        try:
            constraint = (
                PlanConstraint(model.constraint_tokenizer(), lark, model.info.n_vocab, end_penalty=end_penalty)
                if end_penalty
                else self.constraint(model, lark)
            )
        except GrammarError:
            return None
        completion = self.generate(model, prompt, "plan", constraint=constraint, options=options, stop_when=stop_when)
        return completion.text

    def call_constraint(
        self, model: LlamaModel, exact: int | None = None, sequence: Sequence[Tool] = ()
    ) -> GrammarConstraint:
        as_list = self.as_list()
        tags_are_tokens = len(model.tokenize(self.family.call_open)) == 1
        max_calls = self.options.max_parallel_calls if self.parallel else 1
        if exact:
            max_calls = min(exact, max_calls)
        lark = tool_call_grammar(
            self.as_constrained(self.allowed),
            open_tag=self.family.call_open,
            close_tag=self.family.call_close,
            tags_are_tokens=tags_are_tokens,
            max_calls=max_calls,
            as_list=as_list,
            min_calls=max_calls if exact else 1,
            sequence=self.as_constrained(sequence if self.parallel else sequence[:1]),
        )
        try:
            if self.parallel and as_list and self.options.parallel_bias and not exact:
                return self.call_list_constraint(model, lark)
            return self.constraint(model, lark, json_bounds=True)
        except GrammarError as error:
            raise ToolSchemaError(f"the tools' schemas cannot be compiled into a grammar: {error}") from error

    def call_list_constraint(self, model: LlamaModel, lark: str) -> CallListConstraint:
        """A list of calls under `lark`, nudged to go on where it may end (`parallel_bias`), within the bounds."""
        return CallListConstraint(
            model.constraint_tokenizer(),
            lark,
            model.info.n_vocab,
            greedy=self.generation.temperature <= 0,
            continue_bias=self.options.parallel_bias,
            max_number_digits=self.options.max_number_digits,
            max_repeated_items=self.options.max_repeated_items,
            max_repeated_text=self.options.max_repeated_text,
        )

    def as_constrained(self, tools: Sequence[Tool]) -> list[Tool]:
        """The tools as the call grammar holds them: with `declared_formats`, the date and time formats their
        descriptions declare become patterns; with `known_ids`, ids are those the conversation holds."""
        said = self.id_source() if self.options.known_ids else ""
        held = []
        for tool in tools:
            parameters = with_declared_formats(tool.parameters) if self.options.declared_formats else tool.parameters
            parameters = with_known_ids(parameters, said) if said else parameters
            held.append(tool if parameters is tool.parameters else replace(tool, parameters=parameters))
        return held

    def id_source(self) -> str:
        """Where ids come from: what the user said and what tools returned without failing (an error may echo an
        id the model made up)."""
        return "\n".join(
            m.content or ""
            for m in self.conversation
            if m.role == "user" or (m.role == "tool" and not _failed(m.content or ""))
        )

    # -- endpoint --------------------------------------------------------------------------------------------
    def on_endpoint(
        self, model: EndpointModel, response_format: dict[str, Any] | None, on_text: Callable[[str], None] | None
    ) -> ChatResult:
        conversation = with_comparison(self.conversation) if self.options.compare_results else self.conversation
        wire_tools = [t.to_openai() for t in self.tools] or None
        choice: str | dict[str, Any] = self.choice
        if self.choice.startswith("function:"):
            choice = {"type": "function", "function": {"name": self.choice.split(":", 1)[1]}}
        last = None
        choice_refused = False
        for attempt in range(self.options.max_repairs + 1):
            request: dict[str, Any] = {
                "tools": wire_tools if self.choice != "none" else None,
                "tool_choice": choice if wire_tools else None,
                "parallel_tool_calls": self.parallel if wire_tools else None,
                "options": self.generation,
                "response_format": response_format,
                "on_text": on_text if attempt == 0 and self.choice == "auto" else None,
            }
            try:
                result = model.chat(conversation, **request)
            except EndpointError as refused:
                if choice == "auto" or not wire_tools:
                    return self.result(Message(role="assistant"), "", "error", error=str(refused))
                # Some servers reject `required` or a named choice (llama.cpp's chatml-function-calling
                # answers 500): ask with `auto` and let validation and repair insist on the call.
                self.attempts.append(Attempt(stage="call", raw_output="", error=str(refused)))
                choice, choice_refused = "auto", True
                continue
            last = result
            self.usage = self.usage + result.usage
            self.attempts.append(Attempt(stage="call" if attempt == 0 else "repair", raw_output=result.raw_output))
            if not wire_tools or self.choice == "none":
                return self.result(result.message, result.raw_output, result.finish_reason)
            parsed = (
                _from_wire(result.message.tool_calls)
                if result.message.tool_calls
                else self.parse(result.message.content or "")
            )
            if not parsed.calls and not parsed.errors and self.choice == "auto":
                return self.result(result.message, result.raw_output, result.finish_reason)
            checked = self.check(parsed)
            problems = checked.problems or ([] if checked.calls else ["no function call found in the output"])
            self.attempts[-1].error = "; ".join(problems) or None
            if not problems:
                dropped = {call.function.name for call in checked.calls}
                checked, missing = self.ground(checked)
                if checked.calls:
                    return self.calls_result(checked, result.raw_output)
                second_chance = self.second_chance(dropped)
                if second_chance:  # an endpoint is offered only these tools
                    self.tools = self.allowed = second_chance
                    return self.on_endpoint(model, response_format, on_text)
                return self.endpoint_answer_instead(model, missing)
            conversation = conversation + self.repair_messages(result.raw_output, problems)
            if choice == "auto" and not choice_refused:
                choice = "required"
        error = f"no valid function call after {self.options.max_repairs + 1} attempts"
        raw = last.raw_output if last else ""
        return self.result(Message(role="assistant", content=None), raw, "error", error=error)

    def endpoint_answer_instead(self, model: EndpointModel, missing: list[str]) -> ChatResult:
        """Every call rested on values nobody gave: ask the endpoint for words, told why."""
        conversation = self.family.ask_without_call(self.conversation, *_reasons(missing))
        try:
            result = model.chat(conversation, options=self.generation)
        except EndpointError as refused:
            return self.result(Message(role="assistant"), "", "error", error=str(refused))
        self.usage = self.usage + result.usage
        self.attempts.append(Attempt(stage="answer", raw_output=result.raw_output))
        message = Message(role="assistant", content=result.message.content or "")
        return self.result(message, result.raw_output, "length" if result.finish_reason == "length" else "stop")


_CALLED = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\s*\(")


def _argument_values(call: ToolCall) -> list[Any]:
    """The scalar values of a call's arguments (none when a client sent arguments that are not JSON)."""
    try:
        return scalars(call.parsed_arguments())
    except ValueError:
        return []


def _calls_made(conversation: list[Message]) -> list[tuple[str, set[str]]]:
    """Each call the assistant made so far: its tool and its lower-cased argument values."""
    return [
        (call.name, {str(v).lower() for v in _argument_values(call)})
        for m in conversation
        if m.role == "assistant"
        for call in m.tool_calls or []
    ]


def _failed(result: str) -> bool:
    """Whether a tool's result reports a failure (a JSON object with an "error" key, as rixin's tools return)."""
    try:
        parsed = json.loads(result)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "error" in parsed


def _call_key(name: str, arguments: str) -> tuple[str, str]:
    try:
        canonical = json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except json.JSONDecodeError:
        canonical = arguments
    return name, canonical


def _unanswered(calls: list[ToolCall], conversation: list[Message]) -> list[ToolCall]:
    """The calls that do not repeat one whose result is already in the conversation (same name and arguments)."""
    answered_ids = {m.tool_call_id for m in conversation if m.role == "tool"}
    answered = {
        _call_key(c.function.name, c.function.arguments)
        for m in conversation
        for c in m.tool_calls or []
        if c.id in answered_ids
    }
    return [c for c in calls if _call_key(c.function.name, c.function.arguments) not in answered]


def _from_wire(calls: list[ToolCall]) -> ParseResult:
    """Calls a server returned in `tool_calls`, read like parsed text: bad argument JSON is a problem."""
    parsed, errors = [], []
    for call in calls:
        try:
            parsed.append(ParsedCall(name=call.function.name, arguments=call.parsed_arguments(), form="json"))
        except ValueError:
            errors.append(f"{call.function.name}: arguments are not a valid JSON object")
    return ParseResult(calls=parsed, content=None, errors=errors)


def with_options(engine: Engine, **changes: Any) -> Engine:
    """A copy of `engine` with some calling options changed (the model is shared)."""
    return Engine(engine.model, replace(engine.options, **changes))
