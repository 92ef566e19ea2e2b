"""Chat completions on the wire: the `chat.completion` object and `chat.completion.chunk` stream events, exactly
in OpenAI's shapes."""

from __future__ import annotations

import json
from typing import Any

from rixin.types import ChatResult, ToolCall

ARGUMENT_PIECE = 24
"""Characters of tool-call arguments per stream chunk (OpenAI sends arguments in many small deltas)."""


def finish_reason(result: ChatResult) -> str:
    """OpenAI's finish_reason. A request the model could not answer validly ends as "length" when it was cut off
    at max_tokens, else "stop" (the reason is in `rixin_error`)."""
    if result.error is None:
        return result.finish_reason
    cut_off = any("max_tokens" in (attempt.error or "") for attempt in result.attempts)
    return "length" if cut_off or result.finish_reason == "length" else "stop"


def usage(result: ChatResult) -> dict[str, Any]:
    return {
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "total_tokens": result.usage.total_tokens,
    }


def completion(completion_id: str, created: int, model: str, result: ChatResult) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.message.content, "refusal": None}
    if result.message.tool_calls:
        message["tool_calls"] = [call.model_dump() for call in result.message.tool_calls]
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(result)}],
        "usage": usage(result),
        "system_fingerprint": None,
    }
    if result.error:
        body["rixin_error"] = result.error
    return body


class ChunkWriter:
    """Builds the `data: …` lines of one streamed completion."""

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool) -> None:
        self.id, self.created, self.model, self.include_usage = completion_id, created, model, include_usage

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> str:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            body["usage"] = None
        body.update(extra)
        return sse(body)

    def delta(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return self._chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra)

    def role(self) -> str:
        return self.delta({"role": "assistant", "content": "", "refusal": None})

    def text(self, text: str) -> str:
        return self.delta({"content": text})

    def tool_calls(self, calls: list[ToolCall]) -> list[str]:
        """Per call: one delta with index, id, type and name (arguments ""), then the arguments in pieces."""
        lines: list[str] = []
        for index, call in enumerate(calls):
            head = {"index": index, "id": call.id, "type": "function"}
            lines.append(self.delta({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]}))
            arguments = call.function.arguments
            for start in range(0, len(arguments), ARGUMENT_PIECE):
                piece = arguments[start : start + ARGUMENT_PIECE]
                lines.append(self.delta({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        return lines

    def end(self, result: ChatResult) -> list[str]:
        extra = {"rixin_error": result.error} if result.error else {}
        lines = [self.delta({}, finish_reason(result), **extra)]
        if self.include_usage:
            lines.append(self._chunk([], usage=usage(result)))
        return lines


def sse(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


DONE = "data: [DONE]\n\n"
