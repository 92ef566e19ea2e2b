"""Any OpenAI-compatible endpoint (vLLM, LMDeploy, SGLang, Ollama, rixin's own server) via the `openai` SDK."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rixin.errors import EndpointError, EndpointUnreachableError, ModelNotFoundError
from rixin.types import ChatResult, FunctionCall, GenerationOptions, Message, ToolCall, Usage, new_call_id


class EndpointModel:
    """A model served behind `/v1/chat/completions`. The server renders tools and parses calls; the
    function-calling engine still validates and repairs what comes back."""

    def __init__(
        self, base_url: str, model: str | None = None, *, api_key: str | None = None, timeout: float = 300.0
    ) -> None:
        import openai

        key = api_key or os.environ.get("RIXIN_API_KEY") or os.environ.get("OPENAI_API_KEY") or "not-needed"
        self.base_url = base_url.rstrip("/")
        self._client = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=timeout, max_retries=1)
        self._model = model or self._first_model()

    @property
    def name(self) -> str:
        return self._model

    def _first_model(self) -> str:
        import openai

        try:
            models = [m.id for m in self._client.models.list()]
        except openai.OpenAIError as error:
            raise ModelNotFoundError(f"cannot list models at {self.base_url}: {error}") from error
        if not models:
            raise ModelNotFoundError(f"the endpoint {self.base_url} serves no models; name one as URL#MODEL")
        return models[0]

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        options: GenerationOptions | None = None,
        response_format: dict[str, Any] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResult:
        options = options or GenerationOptions()
        request: dict[str, Any] = {
            "model": self._model,
            "messages": [m.to_openai() for m in messages],
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
        }
        if options.stop:
            request["stop"] = options.stop
        if options.seed is not None:
            request["seed"] = options.seed
        if tools:
            request["tools"] = list(tools)
            if tool_choice is not None:
                request["tool_choice"] = tool_choice
            if parallel_tool_calls is not None:
                request["parallel_tool_calls"] = parallel_tool_calls
        if response_format:
            request["response_format"] = response_format
        started = time.perf_counter()
        with self._errors():
            return self._chat(request, on_text, started)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """The SDK's exceptions as rixin's: unreachable → EndpointUnreachableError, HTTP error → EndpointError."""
        import openai

        try:
            yield
        except (openai.APIConnectionError, openai.APITimeoutError) as error:
            raise EndpointUnreachableError(f"cannot reach the endpoint {self.base_url}: {error}") from error
        except openai.APIStatusError as error:
            raise EndpointError(
                f"the endpoint {self.base_url} answered HTTP {error.status_code}: {error.message}"
            ) from error

    def _chat(self, request: dict[str, Any], on_text: Callable[[str], None] | None, started: float) -> ChatResult:
        if on_text is None:
            response = self._client.chat.completions.create(**request)
            choice = response.choices[0]
            message = choice.message
            calls = [
                ToolCall(
                    id=c.id,
                    function=FunctionCall(name=c.function.name, arguments=c.function.arguments or "{}"),
                )
                for c in (message.tool_calls or [])
                if getattr(c, "function", None) is not None
            ]
            usage = response.usage
            result_usage = Usage(
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
                total_tokens=usage.total_tokens if usage else 0,
            )
            content = message.content
            finish = choice.finish_reason
        else:
            content, calls, finish, result_usage = self._stream(request, on_text)
        raw = content or ""
        if calls:
            raw += "".join(json.dumps({"name": c.function.name, "arguments": c.function.arguments}) for c in calls)
        return ChatResult(
            message=Message(role="assistant", content=content, tool_calls=calls or None),
            finish_reason="tool_calls" if calls else ("length" if finish == "length" else "stop"),
            usage=result_usage,
            model=self._model,
            raw_output=raw,
            timings={"total_s": time.perf_counter() - started},
        )

    def _stream(
        self, request: dict[str, Any], on_text: Callable[[str], None]
    ) -> tuple[str | None, list[ToolCall], str | None, Usage]:
        stream = self._client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True})
        text: list[str] = []
        partial: dict[int, dict[str, str]] = {}
        finish: str | None = None
        usage = Usage()
        for chunk in stream:
            if chunk.usage:
                usage = Usage(
                    prompt_tokens=chunk.usage.prompt_tokens,
                    completion_tokens=chunk.usage.completion_tokens,
                    total_tokens=chunk.usage.total_tokens,
                )
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    text.append(delta.content)
                    on_text(delta.content)
                for call in delta.tool_calls or []:
                    slot = partial.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["name"] += call.function.name or ""
                        slot["arguments"] += call.function.arguments or ""
                finish = choice.finish_reason or finish
        calls = [
            ToolCall(
                id=s["id"] or new_call_id(),
                function=FunctionCall(name=s["name"], arguments=s["arguments"] or "{}"),
            )
            for _, s in sorted(partial.items())
        ]
        return ("".join(text) or None), calls, finish, usage
