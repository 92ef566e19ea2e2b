"""The agent loop: generate → execute the calls (in parallel when there are several) → feed results back →
stop on an answer or a limit. No printing here: every step is yielded as an event for the CLI or the server
to render."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from rixin.models import ChatModel
from rixin.tools import Tool, execute_call
from rixin.types import GenerationOptions, Message, ToolCall, Usage

StepKind = Literal["call", "result", "answer", "error", "limit", "review"]
CODE_TOOL = "code_interpreter"
CORRECTION_HINT = "The call failed. Read the error above, fix the cause, and call again with the corrected call."
_FENCED_PYTHON = re.compile(r"```(?:python|py)[ \t]*\n(.*?)```", re.DOTALL)


@dataclass
class Agent:
    """What an agent is: instructions, tools and limits. The model is given at run time (or by `model` spec)."""

    name: str = "agent"
    instructions: str = ""
    tools: list[Tool] = field(default_factory=list)
    model: str | None = None
    max_turns: int = 8
    max_tool_calls: int = 24
    time_budget_s: float | None = None
    max_tokens: int = 1024
    parallel_tool_calls: bool = True
    self_correct: bool = True
    """Failed calls come back with a hint to fix them, the next turn samples a little (`retry_temperature`)
    instead of decoding greedily, and an exact repeat of a failed call is refused rather than run again."""
    retry_temperature: float = 0.7
    max_repeated_failures: int = 2
    """Refused repeats of failed calls tolerated before the run stops."""
    code_blocks_as_calls: bool = True
    """When the agent has the code interpreter and the model answers with a fenced Python block instead of a
    call, run the block as a call: small models often "show" code they mean to run."""


@dataclass(frozen=True)
class Step:
    """One event of a run. `call`: the model asked for a tool call; `result`: its result (`is_error` when the
    tool failed); `answer`: the final text; `error`: the model could not produce a valid turn; `limit`: a
    limit stopped the run (`text` says which); `review`: a checker outside the loop sent the model back
    with a new request (`text`)."""

    kind: StepKind
    turn: int
    text: str = ""
    call: ToolCall | None = None
    is_error: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "turn": self.turn, "seconds": round(self.seconds, 3)}
        if self.call is not None:
            out["call"] = {"id": self.call.id, "name": self.call.name, "arguments": _arguments(self.call)}
        if self.text:
            out["text"] = self.text
        if self.kind == "result":
            out["is_error"] = self.is_error
        return out


@dataclass
class AgentRun:
    """The outcome of `run_agent_to_end`: the answer (None when a limit or an error ended the run)."""

    answer: str | None
    steps: list[Step]
    messages: list[Message]
    usage: Usage
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "steps": [step.to_dict() for step in self.steps],
            "usage": self.usage.model_dump(),
            "seconds": round(self.seconds, 3),
        }


def _arguments(call: ToolCall) -> Any:
    try:
        return call.parsed_arguments()
    except ValueError:
        return call.function.arguments


def _is_error(reply: Message) -> bool:
    content = reply.content or ""
    if content.startswith('{"error"'):
        return True
    # The code interpreter reports failures of the code as text ending in an "error:" section.
    return reply.name == CODE_TOOL and "\nerror" in "\n" + content


def run_agent(
    agent: Agent,
    model: ChatModel,
    task: str,
    *,
    history: list[Message] | None = None,
    usage: Usage | None = None,
) -> Iterator[Step]:
    """Run `agent` on `task`, yielding each step. `history` (if given) is extended in place with every message,
    so a caller can continue the conversation; `usage` (if given) accumulates token counts."""
    messages = history if history is not None else []
    if not messages and agent.instructions:
        messages.append(Message(role="system", content=agent.instructions))
    messages.append(Message(role="user", content=task))
    started = time.perf_counter()
    calls_made = 0
    failed: dict[tuple[str, str], str] = {}  # call → the summary of its failure
    repeats = 0
    last_turn_failed = False
    has_code_tool = any(t.name == CODE_TOOL for t in agent.tools)
    for turn in range(1, agent.max_turns + 1):
        if agent.time_budget_s is not None and time.perf_counter() - started > agent.time_budget_s:
            yield Step("limit", turn, f"time budget of {agent.time_budget_s:g} s spent")
            return
        turn_started = time.perf_counter()
        # Greedy decoding after a failure tends to write the same thing again; a little sampling breaks the loop.
        temperature = agent.retry_temperature if last_turn_failed and agent.self_correct else 0.0
        options = GenerationOptions(max_tokens=agent.max_tokens, temperature=temperature)
        result = model.chat(
            messages, tools=agent.tools or None, parallel_tool_calls=agent.parallel_tool_calls, options=options
        )
        if usage is not None:
            usage.prompt_tokens += result.usage.prompt_tokens
            usage.completion_tokens += result.usage.completion_tokens
            usage.total_tokens += result.usage.total_tokens
        seconds = time.perf_counter() - turn_started
        if result.error:
            yield Step("error", turn, result.error, seconds=seconds)
            return
        message = result.message
        calls = list(message.tool_calls or [])
        if not calls and has_code_tool and agent.code_blocks_as_calls:
            calls = _code_blocks_as_calls(message.content or "")
            if calls:
                message = Message(role="assistant", content=message.content, tool_calls=calls)
        messages.append(message)
        if not calls:
            yield Step("answer", turn, message.content or "", seconds=seconds)
            return
        if calls_made + len(calls) > agent.max_tool_calls:
            yield Step("limit", turn, f"more than {agent.max_tool_calls} tool calls")
            return
        calls_made += len(calls)
        for call in calls:
            yield Step("call", turn, call=call, seconds=seconds / len(calls))
        fresh = [call for call in calls if _key(call) not in failed]
        executed = {call.id: (reply, took) for call, reply, took in _execute_all(agent.tools, fresh)}
        last_turn_failed = False
        for call in calls:
            if call.id in executed:
                reply, took = executed[call.id]
            else:  # the very call that already failed: not run again, the model is told so
                repeats += 1
                reply, took = _refuse_repeat(call, failed[_key(call)]), 0.0
            is_error = _is_error(reply)
            last_turn_failed = last_turn_failed or is_error
            if is_error and call.id in executed:
                failed[_key(call)] = _failure_summary(reply.content or "")
                if agent.self_correct and call.id in executed:
                    reply.content = f"{reply.content}\n\n{CORRECTION_HINT}"
            messages.append(reply)
            yield Step("result", turn, reply.content or "", call=call, is_error=is_error, seconds=took)
        if repeats > agent.max_repeated_failures or (repeats and not agent.self_correct):
            yield Step("limit", turn, "the model kept repeating a call that had failed; stopped")
            return
    yield Step("limit", agent.max_turns, f"no answer after {agent.max_turns} turns")


def _key(call: ToolCall) -> tuple[str, str]:
    return call.name, call.function.arguments


def _failure_summary(content: str) -> str:
    """The line that says what went wrong: the last non-empty line of an error report."""
    lines = [line.strip() for line in content.split(CORRECTION_HINT)[0].splitlines() if line.strip()]
    return lines[-1][:300] if lines else "an error"


def _refuse_repeat(call: ToolCall, summary: str) -> Message:
    text = f"This exact call already failed with: {summary}. It was not run again. Change it to fix that error."
    return Message(role="tool", tool_call_id=call.id, name=call.name, content=json.dumps({"error": text}))


def _code_blocks_as_calls(text: str) -> list[ToolCall]:
    blocks = [block.strip() for block in _FENCED_PYTHON.findall(text) if block.strip()]
    if not blocks:
        return []
    return [ToolCall.make(CODE_TOOL, {"code": "\n\n".join(blocks)})]


def _execute_all(tools: Sequence[Tool], calls: list[ToolCall]) -> Iterator[tuple[ToolCall, Message, float]]:
    """Run the calls of one turn; several at once in threads (their results keep the calls' order)."""

    def timed(call: ToolCall) -> tuple[ToolCall, Message, float]:
        started = time.perf_counter()
        reply = execute_call(tools, call)
        return call, reply, time.perf_counter() - started

    # The code interpreter's session runs one cell at a time; calls to it stay in order.
    if len(calls) <= 1 or any(call.name == CODE_TOOL for call in calls):
        for call in calls:
            yield timed(call)
        return
    with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
        yield from pool.map(timed, calls)


def run_agent_to_end(agent: Agent, model: ChatModel, task: str, history: list[Message] | None = None) -> AgentRun:
    """Run to the end and collect the steps (for callers that need no live progress)."""
    messages = history if history is not None else []
    usage = Usage()
    started = time.perf_counter()
    steps = list(run_agent(agent, model, task, history=messages, usage=usage))
    answer = steps[-1].text if steps and steps[-1].kind == "answer" else None
    return AgentRun(answer, steps, messages, usage, time.perf_counter() - started)


def format_arguments(call: ToolCall) -> str:
    return json.dumps(_arguments(call), ensure_ascii=False)
