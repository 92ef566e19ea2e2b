"""One response, generated in a worker thread: ask the model, run its code-interpreter calls here and feed the
results back, stop at an answer, at calls to the client's function tools (returned as `function_call` items),
at code-interpreter calls that need a person's approval (returned as `approval_request` items), or at a limit.
A response that continues approved calls runs them first. Every output item is recorded as a run event."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rixin.models import ChatModel
from rixin.server.code_runs import CodeSession
from rixin.server.items import order_tool_results
from rixin.store import Store
from rixin.tools import Tool
from rixin.types import GenerationOptions, Message, ToolCall, Usage

DEFAULT_MAX_TOOL_CALLS = 8
APPROVAL_REQUIRED = "approval_required"
"""The `incomplete_details.reason` of a response paused for approvals."""


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
    response_id: str = ""
    require_approval: bool = False
    """Code-interpreter calls wait for a person: the response ends with `approval_request` items."""
    approved: list[dict[str, Any]] = field(default_factory=list)
    """Approval requests (of the response this one continues) approved: run before the model is asked."""


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


def approval_id(response_id: str, index: int) -> str:
    """`apr_<the response's id>_<n>`: the id says which stored response holds the request."""
    return f"apr_{response_id.removeprefix('resp_')}_{index}"


def approval_item(response_id: str, index: int, call: ToolCall) -> dict[str, Any]:
    approval = approval_id(response_id, index)
    return {
        "id": approval,
        "type": "approval_request",
        "name": call.name,
        "arguments": call.function.arguments,
        "rixin_approval_id": approval,  # kept when a conversation gives the item an id of its own
        "rixin_call_id": call.id,
        "rixin_created_at": int(time.time()),
    }


def _code_of(arguments: str | None) -> str:
    try:
        return str(json.loads(arguments or "{}").get("code", ""))
    except (ValueError, AttributeError):
        return ""


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

    def run_code(code: str, call_id: str | None = None) -> str:
        assert plan.code is not None
        item_id = new_id("ci")
        started = {"id": item_id, "type": "code_interpreter_call", "status": "in_progress", "code": code}
        tell("item.added", {**started, "container_id": plan.code.container_id, "outputs": None})
        item, text = plan.code.run(code, item_id)
        if call_id is not None:
            item["rixin_call_id"] = call_id  # the approved call whose result this is
        emit(item)
        return text

    if plan.approved:
        if plan.code is None:
            raise ValueError("approved code_interpreter calls need the code interpreter")
        for request in plan.approved:
            call_id = str(request.get("rixin_call_id") or request["id"])
            text = run_code(_code_of(request.get("arguments")), call_id)
            messages.append(Message(role="tool", tool_call_id=call_id, name=code_name, content=text))
        messages = order_tool_results(messages)

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
        if plan.require_approval and any(call.name == code_name for call in calls):
            # Paused: every code call waits for a person, each with its own id; the client's calls go out too.
            asked = 0
            for call in calls:
                if call.name == code_name:
                    asked += 1
                    emit(approval_item(plan.response_id, asked, call))
                else:
                    emit(function_call_item(call))
            outcome.status, outcome.incomplete_reason = "incomplete", APPROVAL_REQUIRED
            return outcome
        client_calls = False
        for call in calls:
            if call.name == code_name and plan.code is not None:
                text = run_code(_code_of(call.function.arguments))
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
