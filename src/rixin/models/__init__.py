"""Generating text: the embedded llama.cpp runtime and OpenAI-compatible endpoints.

`--model` syntax (see `load_model`):
  - an embedded model name: `qwen2.5-coder-0.5b` (default), `qwen2.5-coder-1.5b`, `smollm2-135m`;
  - a path to a GGUF file: `./models/my-model.gguf` (any path ending in .gguf, or an existing file);
  - an endpoint: `URL#MODEL`, e.g. `http://127.0.0.1:8000/v1#qwen2.5-7b-instruct`, or `MODEL@URL`;
    a bare URL uses the first model the endpoint lists. The key comes from RIXIN_API_KEY or OPENAI_API_KEY;
  - an embedded model or GGUF file with a LoRA adapter (a GGUF llama.cpp loads): `MODEL+ADAPTER.gguf`, e.g.
    `qwen2.5-coder-0.5b+runs/adapter/adapter.gguf`; the model keeps its name (and its calling defaults).

Embedded models use every core; RIXIN_THREADS sets another count (read when a model is loaded).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from rixin.errors import ModelNotFoundError
from rixin.models.endpoint import EndpointModel
from rixin.models.llama import Completion, LlamaModel, ModelInfo, TokenConstraint
from rixin.models.registry import (
    ALIASES,
    DEFAULT_MODEL,
    EMBEDDED_MODELS,
    assemble,
    available_models_text,
    embedded_model,
)
from rixin.types import ChatResult, GenerationOptions, Message, ToolChoice

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_MODELS",
    "ChatModel",
    "Completion",
    "EndpointModel",
    "LlamaModel",
    "ModelInfo",
    "TokenConstraint",
    "assemble",
    "available_models_text",
    "load_model",
    "parse_model_spec",
    "split_adapter",
]


class ChatModel(Protocol):
    """The one interface everything above `models` talks to: chat generation with tools.

    Contract: `messages` are OpenAI-shaped; `tools` are OpenAI tool dicts or `rixin.tools.Tool`s; the result's
    `message.tool_calls` hold only calls whose arguments passed the tool's JSON Schema; when no valid answer
    could be produced, `result.error` says why and `finish_reason` is "error" (never an exception for a
    model's bad output)."""

    @property
    def name(self) -> str: ...

    def chat(
        self,
        messages: Sequence[Message | dict[str, Any]],
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = "auto",
        parallel_tool_calls: bool = True,
        options: GenerationOptions | None = None,
        response_format: dict[str, Any] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResult: ...


def split_adapter(spec: str) -> tuple[str, Path | None]:
    """`MODEL+ADAPTER.gguf` → (MODEL, the adapter's path); any other spec → (spec, None)."""
    spec = spec.strip()
    base, sep, adapter = (part.strip() for part in spec.rpartition("+"))
    if not sep or not adapter.endswith(".gguf") or "://" in spec:
        return spec, None
    # Only a local model takes an adapter: an endpoint's model name may hold "+" and end in ".gguf".
    local = base.lower() in EMBEDDED_MODELS or base.lower() in ALIASES or base.endswith(".gguf") or Path(base).is_file()
    return (base, Path(adapter).expanduser()) if local else (spec, None)


def parse_model_spec(spec: str) -> tuple[str, str, str | None]:
    """Split a `--model` value into (kind, location, model name): kind is "embedded", "gguf" or "endpoint"
    (an adapter, `+ADAPTER.gguf`, is left out: `load_model` reads it)."""
    spec = split_adapter(spec)[0]
    if not spec:
        raise ModelNotFoundError(f"empty model name. {available_models_text()}")
    if "://" in spec:
        if spec.startswith(("http://", "https://")):
            url, _, name = spec.partition("#")
            return "endpoint", url, name or None
        name, _, url = spec.partition("@")
        if url.startswith(("http://", "https://")):
            return "endpoint", url, name or None
        raise ModelNotFoundError(f"cannot read model {spec!r}: an endpoint is URL#MODEL or MODEL@URL (http/https)")
    if spec.lower() in EMBEDDED_MODELS or spec.lower() in ALIASES:
        return "embedded", embedded_model(spec).name, None
    if spec.endswith(".gguf") or Path(spec).is_file():
        return "gguf", spec, None
    raise ModelNotFoundError(f"unknown model {spec!r}. {available_models_text()}")


_loaded: dict[str, LlamaModel] = {}
_loading = threading.Lock()


def load_model(spec: str | None = None, **llama_options: Any) -> LlamaModel | EndpointModel:
    """Open the model a `--model` value names (the default embedded model when None). Embedded models are
    loaded once per process and shared."""
    spec, adapter = split_adapter(spec or DEFAULT_MODEL)
    kind, location, name = parse_model_spec(spec)
    if adapter is not None:
        if not adapter.is_file():
            raise ModelNotFoundError(f"adapter not found: {adapter}")
        llama_options["lora_path"] = adapter.resolve()
    if kind == "endpoint":
        return EndpointModel(location, name)
    if kind == "embedded":
        path, label = assemble(location), location
    else:
        path, label = Path(location).expanduser(), Path(location).stem
        if not path.is_file():
            raise ModelNotFoundError(f"GGUF file not found: {path}. {available_models_text()}")
    if "n_threads" not in llama_options and os.environ.get("RIXIN_THREADS"):
        # llama.cpp's threads wait on each other when they hold every core and another process needs one:
        # a busy machine may run faster with fewer threads.
        llama_options["n_threads"] = int(os.environ["RIXIN_THREADS"])
    key = f"{path.resolve()}|{sorted(llama_options.items())}"
    with _loading:
        if key not in _loaded:
            _loaded[key] = LlamaModel(path, name=label, **llama_options)
        return _loaded[key]
