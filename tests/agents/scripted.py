"""A scripted stand-in for a model: the loop's mechanics tested without generation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rixin.types import ChatResult, Message, ToolCall, Usage


class ScriptedModel:
    """Returns the next scripted turn; a callable turn sees the conversation so far."""

    name = "scripted"

    def __init__(self, turns: list[ChatResult | Callable[[list[Message]], ChatResult]]) -> None:
        self.turns = list(turns)
        self.seen: list[list[Message]] = []
        self.tools_seen: list[list[str]] = []
        self.kwargs_seen: list[dict[str, Any]] = []

    def chat(self, messages: Sequence[Message | dict[str, Any]], **kwargs: Any) -> ChatResult:
        conversation = [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]
        self.seen.append(conversation)
        self.tools_seen.append([getattr(t, "name", "") for t in kwargs.get("tools") or []])
        self.kwargs_seen.append(kwargs)
        turn = self.turns.pop(0)
        return turn(conversation) if callable(turn) else turn


def tool_choices(model: ScriptedModel) -> list[Any]:
    return [kwargs["tool_choice"] for kwargs in model.kwargs_seen]


def sampling(model: ScriptedModel) -> list[tuple[float, int | None]]:
    return [(kwargs["options"].temperature, kwargs["options"].seed) for kwargs in model.kwargs_seen]


def calls(*pairs: tuple[str, dict[str, Any]]) -> ChatResult:
    message = Message(role="assistant", tool_calls=[ToolCall.make(name, args) for name, args in pairs])
    return ChatResult(message=message, usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15))


def answer(text: str) -> ChatResult:
    return ChatResult(message=Message(role="assistant", content=text), usage=Usage(prompt_tokens=12, total_tokens=12))


def tool_results(conversation: list[Message]) -> list[str]:
    return [m.content or "" for m in conversation if m.role == "tool"]
