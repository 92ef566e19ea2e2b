"""The systems a benchmark compares: rixin's engine, and plain llama-cpp-python (what a user gets without rixin).

A system answers one assistant turn: given the conversation and the tools, which calls (or which text)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from rixin.bench.checker import Call
from rixin.calling import Engine
from rixin.calling.parse import parse_tool_calls
from rixin.models import LlamaModel
from rixin.types import GenerationOptions, Message, ToolCall


@dataclass
class Turn:
    calls: list[Call]
    message: Message
    """The assistant message to append to the conversation (with tool_calls when there are calls)."""
    raw_output: str
    unparsable: bool = False
    """The output tried to call but could not be read (or no valid call could be made)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class System(Protocol):
    name: str

    def turn(self, messages: list[Message], tools: list[dict[str, Any]]) -> Turn: ...


class RixinSystem:
    """The function-calling engine, with its default or chosen options."""

    def __init__(self, engine: Engine, *, max_tokens: int = 512) -> None:
        self.engine = engine
        self.name = "rixin"
        self._options = GenerationOptions(max_tokens=max_tokens, temperature=0.0)

    def turn(self, messages: list[Message], tools: list[dict[str, Any]]) -> Turn:
        result = self.engine.chat(messages, tools=tools, tool_choice="auto", options=self._options)
        raw = "\n---\n".join(a.raw_output for a in result.attempts) or result.raw_output
        calls = [Call(c.function.name, c.parsed_arguments()) for c in result.message.tool_calls or []]
        return Turn(
            calls=calls,
            message=result.message,
            raw_output=raw,
            unparsable=result.error is not None,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            timings=dict(result.timings),
        )


class LlamaCppBaseline:
    """llama-cpp-python's `create_chat_completion(tools=…)` with the model's own template, greedy, and a
    lenient parser over its text (it returns calls as text unless a special chat format is chosen)."""

    def __init__(self, model: LlamaModel, *, max_tokens: int = 512) -> None:
        self.model = model
        self.name = "baseline:llama-cpp"
        self._max_tokens = max_tokens

    def turn(self, messages: list[Message], tools: list[dict[str, Any]]) -> Turn:
        started = time.perf_counter()
        response = self.model.create_chat_completion(
            messages=[_wire(m) for m in messages],
            tools=tools or None,
            temperature=0.0,
            max_tokens=self._max_tokens,
        )
        seconds = time.perf_counter() - started
        choice = response["choices"][0]["message"]
        text = choice.get("content") or ""
        native = choice.get("tool_calls") or []
        if native:
            parsed_calls = [Call(c["function"]["name"], _loads(c["function"].get("arguments") or "{}")) for c in native]
            errors: list[str] = []
        else:
            signatures = {t["function"]["name"]: list(t["function"]["parameters"].get("properties", {})) for t in tools}
            parsed = parse_tool_calls(text, signatures)
            parsed_calls = [Call(c.name, c.arguments) for c in parsed.calls]
            errors = parsed.errors
        usage = response.get("usage") or {}
        tool_calls = [ToolCall.make(c.name, c.arguments) for c in parsed_calls] or None
        message = Message(role="assistant", content=None if tool_calls else text, tool_calls=tool_calls)
        return Turn(
            calls=parsed_calls,
            message=message,
            raw_output=text or json.dumps(native),
            unparsable=not parsed_calls and bool(errors),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            timings={"total_s": seconds},
        )


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _wire(message: Message) -> dict[str, Any]:
    """OpenAI wire form; the Qwen template wants tool-call arguments as objects, not JSON strings."""
    out = message.to_openai()
    for call in out.get("tool_calls", []):
        call["function"]["arguments"] = _loads(call["function"]["arguments"])
    if out.get("content") is None:
        out["content"] = ""
    return out
