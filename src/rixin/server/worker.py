"""Generation in a worker thread: the event loop stays free (health, models, other clients), the pieces of text
come back to it as they are made, and a cancel flag stops the generation at its next piece."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
OnText = Callable[[str], None]


class GenerationCancelledError(Exception):
    """Raised inside the generation (from `on_text`) when its client has gone: the engine unwinds at once."""


@dataclass(frozen=True)
class TextPiece:
    text: str


@dataclass(frozen=True)
class Finished(Generic[T]):
    value: T


@dataclass(frozen=True)
class Failed:
    error: BaseException


@dataclass(frozen=True)
class Progress:
    """A step the work reports on its way (a streamed response's output item started or done)."""

    kind: str
    data: dict[str, Any]


Event = TextPiece | Finished[Any] | Failed | Progress


class WorkerJob(Generic[T]):
    """Runs `work(on_text)` on `executor`. `events` receives each piece of text, then Finished or Failed."""

    def __init__(self, executor: Executor, work: Callable[[OnText], T]) -> None:
        self._executor, self._work = executor, work
        self.cancelled = threading.Event()
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self._future: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def post(self, event: Event) -> None:
        """Hand `event` to the event loop (callable from the worker thread once the job has started)."""
        if self._loop is None:
            return
        # A closed loop means the server is shutting down and nobody listens.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self.events.put_nowait, event)

    def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        post = self.post

        def on_text(piece: str) -> None:
            if self.cancelled.is_set():
                raise GenerationCancelledError
            if piece:
                post(TextPiece(piece))

        def run() -> None:
            try:
                value = self._work(on_text)
            except BaseException as error:  # every failure goes back to the loop as data
                post(Failed(error))
            else:
                post(Finished(value))

        self._future = loop.run_in_executor(self._executor, run)

    def cancel(self) -> None:
        self.cancelled.set()

    async def result(self) -> T:
        """Skip the pieces of text; the value, or the error raised."""
        while True:
            event = await self.events.get()
            if isinstance(event, Finished):
                value: T = event.value
                return value
            if isinstance(event, Failed):
                raise event.error

    async def finished(self) -> None:
        """Wait until the worker thread is done (so that the model's slot is truly free)."""
        if self._future is not None:
            await asyncio.shield(self._future)
