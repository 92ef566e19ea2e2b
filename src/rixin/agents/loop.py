"""The agent loop: generate → execute the calls (in parallel when there are several) → feed results back →
stop on an answer or a limit. No printing here: every step is yielded as an event for the CLI or the server
to render."""

from __future__ import annotations

import contextvars
import json
import re
import time
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from rixin.agents.agent import Agent
from rixin.agents.approvals import DENIED, ApprovalQueue, Approver, PendingApproval, requires_approval
from rixin.agents.calls import run_call
from rixin.agents.steps import AgentRun, Step, StepKind, format_arguments
from rixin.errors import RixinError
from rixin.models import ChatModel
from rixin.tools import Tool
from rixin.types import ChatResult, GenerationOptions, Message, ToolCall, ToolChoice, Usage

__all__ = ["Agent", "AgentRun", "Step", "StepKind", "format_arguments", "run_agent", "run_agent_to_end"]

CODE_TOOL = "code_interpreter"
CORRECTION_HINT = "The call failed. Read the error above, fix the cause, and call again with the corrected call."
_FENCED_PYTHON = re.compile(r"```(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL)

current_model: contextvars.ContextVar[ChatModel | None] = contextvars.ContextVar("rixin_current_model", default=None)
"""The model of the run whose tool is executing: an agent used as a tool without a model of its own uses it."""


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
    approver: ApprovalQueue | Approver | None = None,
    run_id: str = "",
) -> Iterator[Step]:
    """Run `agent` on `task`, yielding each step. `history` (if given) is extended in place with every message,
    so a caller can continue the conversation; `usage` (if given) accumulates token counts. Calls that need
    approval are submitted to `approver` (a queue someone decides on, or a callable asked per call); without
    one they are denied. MCP servers this run starts are stopped when it ends."""
    opened = [server for server in agent.mcp_servers if not server.connected]
    try:
        for line in agent.open_plugins():
            yield Step("notice", 0, line)
        yield from _turns(agent, model, task, history, usage, approver, run_id)
    finally:
        for server in opened:
            server.close()


def _turns(
    agent: Agent,
    model: ChatModel,
    task: str,
    history: list[Message] | None,
    usage: Usage | None,
    approver: ApprovalQueue | Approver | None,
    run_id: str,
) -> Iterator[Step]:
    tools = agent.all_tools()
    by_name = {t.name: t for t in tools}
    messages = history if history is not None else []
    if not messages and agent.instructions:
        messages.append(Message(role="system", content=agent.instructions))
    messages.append(Message(role="user", content=task))
    started = time.perf_counter()
    calls_made = 0
    failed: dict[tuple[str, str], str] = {}  # call → the summary of its failure
    denied: dict[tuple[str, str], str] = {}  # call → why a person refused it
    repeats = 0
    last_turn_failed = False
    fix_now = False  # a call ran and failed last turn: with self-correction, this turn must call again
    forced_left = agent.forced_retries if agent.self_correct else 0
    reported: set[str] = set()  # MCP servers whose stop was already announced
    has_code_tool = CODE_TOOL in by_name
    for turn in range(1, agent.max_turns + 1):
        if agent.time_budget_s is not None and time.perf_counter() - started > agent.time_budget_s:
            yield Step("limit", turn, f"time budget of {agent.time_budget_s:g} s spent")
            return
        turn_started = time.perf_counter()
        # Greedy decoding after a failure tends to write the same thing again; a little sampling breaks the loop.
        temperature = agent.retry_temperature if last_turn_failed and agent.self_correct else agent.temperature
        options = GenerationOptions(max_tokens=agent.max_tokens, temperature=temperature, seed=agent.seed)
        tool_choice: ToolChoice = agent.first_tool_choice if turn == 1 else "auto"
        if fix_now and forced_left > 0:
            forced_left -= 1
            tool_choice = "required"
        try:
            result = _chat(model, messages, tools, tool_choice, agent, options, usage)
            if agent.self_correct and not result.error and _only_repeats(result.message, failed):
                # A sampled retry can land on the very call that failed (the 0.5B did in 4 of 7 forced retries
                # on the execution suite): draw once more, hotter and with another seed, before refusing it.
                seed = None if agent.seed is None else agent.seed + turn
                hotter = options.model_copy(update={"temperature": max(1.0, temperature), "seed": seed})
                result = _chat(model, messages, tools, tool_choice, agent, hotter, usage)
        except (RixinError, ValueError) as error:  # e.g. the conversation outgrew the model's context
            yield Step("error", turn, f"the model could not continue: {error}")
            return
        seconds = time.perf_counter() - turn_started
        if result.error:
            yield Step("error", turn, result.error, seconds=seconds, usage=result.usage)
            return
        message = result.message
        calls = list(message.tool_calls or [])
        if not calls and has_code_tool and agent.code_blocks_as_calls:
            calls = _code_blocks_as_calls(message.content or "")
            if calls:
                message = Message(role="assistant", content=message.content, tool_calls=calls)
        messages.append(message)
        if not calls:
            yield Step("answer", turn, message.content or "", seconds=seconds, usage=result.usage)
            return
        if calls_made + len(calls) > agent.max_tool_calls:
            yield Step("limit", turn, f"more than {agent.max_tool_calls} tool calls", usage=result.usage)
            return
        calls_made += len(calls)
        for index, call in enumerate(calls):
            yield Step("call", turn, call=call, seconds=seconds / len(calls), usage=None if index else result.usage)
        fresh = [call for call in calls if _key(call) not in failed and _key(call) not in denied]
        gated = [call for call in fresh if requires_approval(by_name.get(call.name), agent.approval)]
        refusals: dict[str, Message] = {}
        if gated:
            decisions = yield from _ask(agent, gated, approver, turn, run_id)
            for call in gated:
                entry = decisions[call.id]
                if not entry.approved:
                    denied[_key(call)] = entry.reason
                    refusals[call.id] = _denial(call, entry.reason)
            fresh = [call for call in fresh if call.id not in refusals]
        executed = {
            call.id: (reply, took) for call, reply, took in _execute_all(tools, fresh, model, agent.max_result_chars)
        }
        last_turn_failed = fix_now = False
        for call in calls:
            if call.id in executed:
                reply, took = executed[call.id]
            elif call.id in refusals:
                reply, took = refusals[call.id], 0.0
            elif _key(call) in denied:  # the very call a person refused: not asked again
                repeats += 1
                reply, took = _denial(call, denied[_key(call)], again=True), 0.0
            else:  # the very call that already failed: not run again, the model is told so
                repeats += 1
                reply, took = _refuse_repeat(call, failed[_key(call)]), 0.0
            is_error = _is_error(reply)
            last_turn_failed = last_turn_failed or is_error
            if is_error and call.id in executed:
                fix_now = True
                failed[_key(call)] = _failure_summary(reply.content or "")
                if agent.self_correct:
                    reply.content = f"{reply.content}\n\n{CORRECTION_HINT}"
            messages.append(reply)
            yield Step("result", turn, reply.content or "", call=call, is_error=is_error, seconds=took)
        for server in agent.mcp_servers:
            if server.failure and server.name not in reported:
                reported.add(server.name)
                yield Step("notice", turn, f"MCP server '{server.name}' stopped: {server.failure}; its tools now fail")
        if repeats > agent.max_repeated_failures or (repeats and not agent.self_correct):
            yield Step("limit", turn, "the model kept repeating a call that had failed; stopped")
            return
    yield Step("limit", agent.max_turns, f"no answer after {agent.max_turns} turns")


def _ask(
    agent: Agent, calls: list[ToolCall], approver: ApprovalQueue | Approver | None, turn: int, run_id: str
) -> Generator[Step, None, dict[str, PendingApproval]]:
    """Submit the calls, yield one `approval` step each (all before waiting, so parallel calls are decided
    together), then wait for every decision. Returns the decided entries by call id."""
    queue = approver if isinstance(approver, ApprovalQueue) else ApprovalQueue()
    entries = [queue.submit(call, agent=agent.name, run_id=run_id, turn=turn) for call in calls]
    for entry in entries:
        text = f"{entry.call.name}({format_arguments(entry.call)}) needs approval"
        yield Step("approval", turn, text, call=entry.call, approval_id=entry.id)
    if not isinstance(approver, ApprovalQueue):
        for entry in entries:
            if entry.decided:
                continue
            if approver is None:
                queue.decide(entry.id, False, "no one can approve calls in this run")
                continue
            try:
                approved, reason = bool(approver(entry)), ""
            except Exception as error:  # a broken approver denies: the safe side
                approved, reason = False, f"the approver failed: {type(error).__name__}: {error}"
            queue.decide(entry.id, approved, reason)
    decided = queue.wait([entry.id for entry in entries], agent.approval_timeout_s)
    return {entry.call.id: decided[entry.id] for entry in entries}


def _denial(call: ToolCall, reason: str, *, again: bool = False) -> Message:
    why = f" ({reason})" if reason else ""
    first = "This exact call was already denied" if again else f"The call was {DENIED}"
    text = f"{first}{why}; it was not run. Do not call it again: answer without it or ask the user."
    return Message(role="tool", tool_call_id=call.id, name=call.name, content=json.dumps({"denied": text}))


def _chat(
    model: ChatModel,
    messages: list[Message],
    tools: list[Tool],
    tool_choice: ToolChoice,
    agent: Agent,
    options: GenerationOptions,
    usage: Usage | None,
) -> ChatResult:
    result = model.chat(
        messages,
        tools=tools or None,
        tool_choice=tool_choice if tools else "auto",
        parallel_tool_calls=agent.parallel_tool_calls,
        options=options,
    )
    if usage is not None:
        usage.prompt_tokens += result.usage.prompt_tokens
        usage.completion_tokens += result.usage.completion_tokens
        usage.total_tokens += result.usage.total_tokens
    return result


def _only_repeats(message: Message, failed: dict[tuple[str, str], str]) -> bool:
    """Whether every call of the message is one that already failed, exactly."""
    calls = message.tool_calls or []
    return bool(calls) and all(_key(call) in failed for call in calls)


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


def _execute_all(
    tools: Sequence[Tool], calls: list[ToolCall], model: ChatModel, limit: int
) -> Iterator[tuple[ToolCall, Message, float]]:
    """Run the calls of one turn; several at once in threads (their results keep the calls' order)."""

    def timed(call: ToolCall) -> tuple[ToolCall, Message, float]:
        started = time.perf_counter()
        current_model.set(model)  # inside a copied context: seen by this call only
        reply = run_call(tools, call, limit)
        return call, reply, time.perf_counter() - started

    def in_context(call: ToolCall) -> tuple[ToolCall, Message, float]:
        return contextvars.copy_context().run(timed, call)

    # The code interpreter's session runs one cell at a time; calls to it stay in order.
    if len(calls) <= 1 or any(call.name == CODE_TOOL for call in calls):
        for call in calls:
            yield in_context(call)
        return
    with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
        yield from pool.map(in_context, calls)


def run_agent_to_end(
    agent: Agent,
    model: ChatModel,
    task: str,
    history: list[Message] | None = None,
    *,
    approver: ApprovalQueue | Approver | None = None,
) -> AgentRun:
    """Run to the end and collect the steps (for callers that need no live progress)."""
    messages = history if history is not None else []
    usage = Usage()
    started = time.perf_counter()
    steps = list(run_agent(agent, model, task, history=messages, usage=usage, approver=approver))
    answer = steps[-1].text if steps and steps[-1].kind == "answer" else None
    return AgentRun(answer, steps, messages, usage, time.perf_counter() - started)
