"""Test helpers: a real uvicorn server in a thread on a free port, and a scripted stand-in model."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from rixin.server import ServerSettings, create_app
from rixin.store import Store
from rixin.types import ChatResult, GenerationOptions, Message, ToolCall, Usage


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningServer:
    url: str
    """The base URL without /v1."""
    app: Any

    @property
    def v1(self) -> str:
        return self.url + "/v1"


@contextmanager
def serve_in_thread(
    settings: ServerSettings, *, model: Any = None, store: Store | None = None
) -> Iterator[RunningServer]:
    port = free_port()
    settings = ServerSettings(**{**settings.__dict__, "port": port})
    app = create_app(settings, model=model, store=store)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    assert httpx.get(url + "/health").status_code == 200
    try:
        yield RunningServer(url, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class FakeModel:
    """A `ChatModel` that answers with scripted text, one piece at a time, `delay` seconds apart; `gate` (when
    set) holds every generation until it is released. Records how each generation ended."""

    name: str = "fake-model"
    pieces: Sequence[str] = ("Hello", ", ", "world", "!")
    delay: float = 0.0
    gate: threading.Event | None = None
    calls: list[str] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    active: int = 0
    most_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_start: Callable[[], None] | None = None

    def chat(
        self,
        messages: Sequence[Message | dict[str, Any]],
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = "auto",
        parallel_tool_calls: bool = True,
        options: GenerationOptions | None = None,
        response_format: dict[str, Any] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResult:
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        self.started.set()
        try:
            if self.gate is not None:
                self.gate.wait(30)
            last = messages[-1]
            self.calls.append(str(last.content if isinstance(last, Message) else last.get("content")))
            if tools and tool_choice != "none":
                tool = tools[0]
                name = tool.name if hasattr(tool, "name") else tool["function"]["name"]
                call = ToolCall.make(name, {"city": "Paris"})
                message = Message(role="assistant", content=None, tool_calls=[call])
                return ChatResult(message=message, finish_reason="tool_calls", usage=Usage(), model=self.name)
            text = ""
            for piece in self.pieces:
                try:
                    if on_text is not None:
                        on_text(piece)
                except BaseException:
                    self.cancelled.set()
                    raise
                text += piece
                time.sleep(self.delay)
            usage = Usage(prompt_tokens=3, completion_tokens=len(self.pieces), total_tokens=3 + len(self.pieces))
            return ChatResult(message=Message(role="assistant", content=text), usage=usage, model=self.name)
        finally:
            with self.lock:
                self.active -= 1


@dataclass
class ScriptedModel:
    """A `ChatModel` for the UI and streaming tests. It answers `Echo: <the user's words>` in pieces, `delay` s
    apart; when the user's message contains a word of `scripts` and that tool is offered, it first calls the
    tool with the scripted arguments; after a tool's result it answers `Result: <the result>`."""

    name: str = "scripted-model"
    delay: float = 0.0
    scripts: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def chat(
        self,
        messages: Sequence[Message | dict[str, Any]],
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = "auto",
        parallel_tool_calls: bool = True,
        options: GenerationOptions | None = None,
        response_format: dict[str, Any] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResult:
        last = Message.model_validate(messages[-1]) if isinstance(messages[-1], dict) else messages[-1]
        content = str(last.content or "")
        offered = {tool.name if hasattr(tool, "name") else tool["function"]["name"] for tool in tools or []}
        if last.role == "tool":
            pieces = ["Result", ":", " " + " ".join(content.split())[:200]]
        else:
            for word, (tool_name, arguments) in self.scripts.items():
                if word in content.lower() and tool_name in offered and tool_choice != "none":
                    call = ToolCall.make(tool_name, arguments)
                    message = Message(role="assistant", content=None, tool_calls=[call])
                    return ChatResult(message=message, finish_reason="tool_calls", usage=Usage(), model=self.name)
            pieces = ["Echo", ":"] + [" " + word for word in content.split()]
        for piece in pieces:
            if on_text is not None:
                on_text(piece)
            time.sleep(self.delay)
        text = "".join(pieces)
        usage = Usage(
            prompt_tokens=len(messages), completion_tokens=len(pieces), total_tokens=len(messages) + len(pieces)
        )
        return ChatResult(message=Message(role="assistant", content=text), usage=usage, model=self.name)
