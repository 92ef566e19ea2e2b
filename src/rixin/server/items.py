"""Conversation items as the Responses and Conversations APIs shape them: messages (easy `{"role", "content"}`
form or full form), function calls and their outputs, and (in a response's input only) answers to approval
requests. Stored in one canonical form."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from rixin.types import FunctionCall, Message, ToolCall

DENIED = "denied by the user"
"""The words a refused call's result uses (the same as `rixin run`'s, `rixin.agents.approvals.DENIED`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: Literal["input_text", "output_text", "text"]
    text: str


class MessageItem(_Strict):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ContentPart]
    id: str | None = None
    status: str | None = None


class FunctionCallItem(_Strict):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(_Strict):
    type: Literal["function_call_output"]
    call_id: str
    output: str
    id: str | None = None
    status: str | None = None


class ApprovalResponseItem(_Strict):
    """A person's answer to an `approval_request` output item (OpenAI's `mcp_approval_response` shape)."""

    type: Literal["approval_response"]
    approval_request_id: str
    approve: bool
    reason: str | None = Field(default=None, max_length=2000)
    id: str | None = None
    status: str | None = None


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("type", "message"))
    return getattr(value, "type", None)


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")],
    Discriminator(_kind),
]
ItemList = Annotated[list[InputItem], Field(max_length=1000)]
ResponseInputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ApprovalResponseItem, Tag("approval_response")],
    Discriminator(_kind),
]
ResponseItemList = Annotated[list[ResponseInputItem], Field(max_length=1000)]
"""A response's input: conversation items, and answers to the previous response's approval requests."""


def canonical(item: MessageItem | FunctionCallItem | FunctionCallOutputItem | ApprovalResponseItem) -> dict[str, Any]:
    """The stored form: a message's content is always a list of typed text parts."""
    if isinstance(item, MessageItem):
        kind = "output_text" if item.role == "assistant" else "input_text"
        parts = (
            [{"type": kind, "text": item.content}]
            if isinstance(item.content, str)
            else [{"type": kind if part.type == "text" else part.type, "text": part.text} for part in item.content]
        )
        return {"type": "message", "role": item.role, "content": parts, "status": "completed"}
    data = item.model_dump(exclude_none=True, exclude={"id", "status"})
    return {**data, "status": "completed"}


def item_text(item: dict[str, Any]) -> str:
    return "\n".join(str(part.get("text", "")) for part in item.get("content", []) if isinstance(part, dict))


def approval_key(item: dict[str, Any]) -> str:
    """An approval request's id (in a conversation the item has an id of its own)."""
    return str(item.get("rixin_approval_id") or item.get("id"))


def denial_message(call_id: str, name: str | None, reason: str | None) -> Message:
    """What the model reads for a call a person refused."""
    why = f" ({reason})" if reason else ""
    text = f"The call was {DENIED}{why}; it was not run. Do not call it again: answer without it or ask the user."
    return Message(role="tool", tool_call_id=call_id, name=name, content=json.dumps({"denied": text}))


def _add_call(messages: list[Message], call: ToolCall) -> None:
    """A call joins the assistant turn just before it (parallel calls), or starts one."""
    last = messages[-1] if messages else None
    if last is not None and last.role == "assistant" and last.tool_calls and not last.content:
        last.tool_calls.append(call)
    else:
        messages.append(Message(role="assistant", content=None, tool_calls=[call]))


def to_messages(items: list[dict[str, Any]]) -> list[Message]:
    """Canonical items as chat messages for the engine (consecutive function calls form one assistant turn).

    An `approval_request` is the call the model made; its answer is the result of the `code_interpreter_call`
    run for it (which carries the call's id), or, when denied, the denial in its `approval_response`."""
    messages: list[Message] = []
    requested: dict[str, tuple[str, str]] = {}  # approval id → (call id, tool name)
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = "system" if item.get("role") == "developer" else str(item.get("role", "user"))
            messages.append(Message.model_validate({"role": role, "content": item_text(item)}))
        elif kind == "function_call":
            _add_call(
                messages,
                ToolCall(
                    id=str(item["call_id"]),
                    function=FunctionCall(name=str(item["name"]), arguments=str(item.get("arguments") or "{}")),
                ),
            )
        elif kind == "function_call_output":
            messages.append(Message(role="tool", tool_call_id=str(item["call_id"]), content=str(item["output"])))
        elif kind == "approval_request":
            call_id, name = str(item.get("rixin_call_id") or item["id"]), str(item["name"])
            requested[approval_key(item)] = (call_id, name)
            _add_call(
                messages, ToolCall(id=call_id, function=FunctionCall(name=name, arguments=str(item["arguments"])))
            )
        elif kind == "approval_response":
            found = requested.get(str(item.get("approval_request_id")))
            if found is not None and not item.get("approve"):
                messages.append(denial_message(found[0], found[1], item.get("reason")))
        elif kind == "code_interpreter_call":
            text = str(item.get("rixin_output_text") or "")
            ran_for = str(item.get("rixin_call_id") or "")
            if ran_for and any(ran_for == known for known, _ in requested.values()):
                # An approved call, run in a later response: the model reads its output as the call's result.
                messages.append(Message(role="tool", tool_call_id=ran_for, name="code_interpreter", content=text))
                continue
            # A server-side run: shown to the model as the call it made and the output it read.
            call = ToolCall.make("code_interpreter", {"code": str(item.get("code") or "")}, str(item["id"]))
            messages.append(Message(role="assistant", content=None, tool_calls=[call]))
            messages.append(Message(role="tool", tool_call_id=call.id, name="code_interpreter", content=text))
    return order_tool_results(messages)


def order_tool_results(messages: list[Message]) -> list[Message]:
    """The results right after an assistant turn, in the order of its calls (a denial, recorded with the answers,
    comes before the output of an approved call run later; chat templates pair results with calls by order)."""
    ordered: list[Message] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        ordered.append(message)
        index += 1
        if message.role != "assistant" or not message.tool_calls:
            continue
        end = index
        while end < len(messages) and messages[end].role == "tool":
            end += 1
        position = {call.id: n for n, call in enumerate(message.tool_calls)}
        results = messages[index:end]
        ordered += sorted(results, key=lambda m: position.get(m.tool_call_id or "", len(position)))
        index = end
    return ordered
