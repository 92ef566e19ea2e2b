"""Plain data shared by every part: chat messages, tool calls, results.

Shapes follow OpenAI's chat-completion objects so that they serialise to the wire format unchanged
(`model_dump(exclude_none=True)`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "error"]


class FunctionCall(BaseModel):
    name: str
    arguments: str = "{}"
    """The arguments as a JSON text, exactly as OpenAI sends them."""


class ToolCall(BaseModel):
    id: str = Field(default_factory=lambda: new_call_id())
    type: Literal["function"] = "function"
    function: FunctionCall

    @classmethod
    def make(cls, name: str, arguments: Mapping[str, Any], call_id: str | None = None) -> ToolCall:
        return cls(
            id=call_id or new_call_id(),
            function=FunctionCall(name=name, arguments=json.dumps(dict(arguments), ensure_ascii=False)),
        )

    @property
    def name(self) -> str:
        return self.function.name

    def parsed_arguments(self) -> dict[str, Any]:
        """Arguments as a dict; raises ValueError when the JSON text is not an object."""
        value = json.loads(self.function.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError(f"arguments of {self.function.name!r} are not a JSON object")
        return value


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    def to_openai(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class GenerationOptions(BaseModel):
    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    stop: list[str] = Field(default_factory=list)
    seed: int | None = None


class Attempt(BaseModel):
    """One generation the engine made for a request: what came out and what was wrong with it."""

    stage: str
    raw_output: str
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


class ChatResult(BaseModel):
    message: Message
    finish_reason: FinishReason = "stop"
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    raw_output: str = ""
    """Everything the model generated for the final message, before parsing."""
    error: str | None = None
    """Set when no valid answer could be produced (for example `required` never formed a valid call)."""
    attempts: list[Attempt] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)

    def to_openai_message(self) -> dict[str, Any]:
        """The OpenAI chat-completion message object: `content` is always present (possibly null)."""
        out: dict[str, Any] = {"role": "assistant", "content": self.message.content}
        if self.message.tool_calls:
            out["tool_calls"] = [call.model_dump() for call in self.message.tool_calls]
        return out


ToolChoice = str | Mapping[str, Any]
"""`"auto"`, `"required"`, `"none"`, a function name, or OpenAI's `{"type": "function", "function": {"name": …}}`."""


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def as_messages(messages: Sequence[Message | Mapping[str, Any]]) -> list[Message]:
    """Accept OpenAI-style dicts or Message objects; raises pydantic.ValidationError on bad input."""
    return [m if isinstance(m, Message) else Message.model_validate(dict(m)) for m in messages]


def tool_choice_name(choice: ToolChoice | None) -> str:
    """Normalise a tool_choice to "auto", "required", "none" or "function:<name>"."""
    if choice is None:
        return "auto"
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str) or not name:
            raise ValueError(f"tool_choice object needs function.name: {dict(choice)!r}")
        return "function:" + name
    if choice in ("auto", "required", "none"):
        return choice
    if not choice:
        raise ValueError("tool_choice is empty")
    return "function:" + choice
