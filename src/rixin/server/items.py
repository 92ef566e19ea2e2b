"""Conversation items as the Responses and Conversations APIs shape them: messages (easy `{"role", "content"}`
form or full form), function calls and their outputs. Stored in one canonical form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from rixin.types import FunctionCall, Message, ToolCall


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


def canonical(item: MessageItem | FunctionCallItem | FunctionCallOutputItem) -> dict[str, Any]:
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


def to_messages(items: list[dict[str, Any]]) -> list[Message]:
    """Canonical items as chat messages for the engine (consecutive function calls form one assistant turn)."""
    messages: list[Message] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = "system" if item.get("role") == "developer" else str(item.get("role", "user"))
            messages.append(Message.model_validate({"role": role, "content": item_text(item)}))
        elif kind == "function_call":
            call = ToolCall(
                id=str(item["call_id"]),
                function=FunctionCall(name=str(item["name"]), arguments=str(item.get("arguments") or "{}")),
            )
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant" and last.tool_calls and not last.content:
                last.tool_calls.append(call)
            else:
                messages.append(Message(role="assistant", content=None, tool_calls=[call]))
        elif kind == "function_call_output":
            messages.append(Message(role="tool", tool_call_id=str(item["call_id"]), content=str(item["output"])))
        elif kind == "code_interpreter_call":
            # A server-side run: shown to the model as the call it made and the output it read.
            call = ToolCall.make("code_interpreter", {"code": str(item.get("code") or "")}, str(item["id"]))
            messages.append(Message(role="assistant", content=None, tool_calls=[call]))
            text = str(item.get("rixin_output_text") or "")
            messages.append(Message(role="tool", tool_call_id=call.id, name="code_interpreter", content=text))
    return messages
