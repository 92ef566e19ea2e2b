"""One response, generated in a worker thread: ask the model, run its code-interpreter calls here and feed the
results back, stop at an answer, at calls to the client's function tools (returned as `function_call` items),
or at a limit. Every output item is recorded as a run event."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rixin.models import ChatModel
from rixin.server.code_runs import CodeSession
from rixin.store import Store
from rixin.tools import Tool
from rixin.types import GenerationOptions, Message, ToolCall, Usage

DEFAULT_MAX_TOOL_CALLS = 8


@dataclass
class ResponsePlan:
    """What the request asks for, checked."""

    messages: list[Message]
    tools: list[Tool]
    tool_choice: str | dict[str, Any]
    parallel_tool_calls: bool
    options: GenerationOptions
    response_format: dict[str, Any] | None
    max_tool_calls: int
    code: CodeSession | None = None


@dataclass
class ResponseOutcome:
    status: str = "completed"
    output: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    error: dict[str, str] | None = None
    incomplete_reason: str | None = None


Notify = Callable[[str, dict[str, Any]], None]
"""Progress for a streamed response: ("turn", {"message_id"}) before each generation (its text, if it becomes
the answer, is that message), ("item.added", item) when a code run starts, ("item.done", item) per output item."""


def new_id(prefix: str) -> str:
    return prefix + "_" + secrets.token_hex(12)


def message_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    return {
        "id": item_id or new_id("msg"),
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def function_call_item(call: ToolCall) -> dict[str, Any]:
    return {
        "id": "fc_" + secrets.token_hex(12),
        "type": "function_call",
        "status": "completed",
        "call_id": call.id,
        "name": call.name,
        "arguments": call.function.arguments,
    }


def run_response(
    model: ChatModel,
    plan: ResponsePlan,
    store: Store,
    run_id: str,
    on_text: Callable[[str], None],
    notify: Notify | None = None,
) -> ResponseOutcome:
    outcome = ResponseOutcome()
    tell: Notify = notify or (lambda _kind, _data: None)
    messages = list(plan.messages)
    code_name = plan.code.tool_name if plan.code else None
    calls_made = 0

    def emit(item: dict[str, Any]) -> None:
        outcome.output.append(item)
        store.add_event(run_id, "response.output_item.done", {"item": item})
        tell("item.done", item)

    for turn in range(plan.max_tool_calls + 1):
        # A forced choice applies to the first turn; later turns may answer with the results.
        choice = plan.tool_choice if turn == 0 else "auto"
        message_id = new_id("msg")
        tell("turn", {"message_id": message_id})
        result = model.chat(
            messages,
            tools=plan.tools or None,
            tool_choice=choice,
            parallel_tool_calls=plan.parallel_tool_calls,
            options=plan.options,
            response_format=plan.response_format,
            on_text=on_text,
        )
        outcome.usage = outcome.usage + result.usage
        if result.error is not None:
            cut_off = result.finish_reason == "length" or any(
                "max_tokens" in (attempt.error or "") for attempt in result.attempts
            )
            if cut_off:
                outcome.status, outcome.incomplete_reason = "incomplete", "max_output_tokens"
            else:
                outcome.status = "failed"
                outcome.error = {"code": "invalid_tool_call", "message": result.error}
            return outcome
        calls = list(result.message.tool_calls or [])
        if result.message.content:
            emit(message_item(result.message.content, message_id))
        if not calls:
            if result.finish_reason == "length":
                outcome.status, outcome.incomplete_reason = "incomplete", "max_output_tokens"
            return outcome
        messages.append(result.message)
        client_calls = False
        for call in calls:
            if call.name == code_name and plan.code is not None:
                try:
                    code = str(json.loads(call.function.arguments or "{}").get("code", ""))
                except (ValueError, AttributeError):
                    code = ""
                item_id = new_id("ci")
                started = {"id": item_id, "type": "code_interpreter_call", "status": "in_progress", "code": code}
                tell("item.added", {**started, "container_id": plan.code.container_id, "outputs": None})
                item, text = plan.code.run(code, item_id)
                emit(item)
                messages.append(Message(role="tool", tool_call_id=call.id, name=call.name, content=text))
            else:
                emit(function_call_item(call))
                client_calls = True
        calls_made += len(calls)
        if client_calls:
            return outcome  # the client runs its functions and answers with function_call_output items
        if calls_made >= plan.max_tool_calls:
            outcome.status, outcome.incomplete_reason = "incomplete", "max_tool_calls"
            return outcome
    outcome.status, outcome.incomplete_reason = "incomplete", "max_tool_calls"
    return outcome
