"""Fair waiting for the model: a fixed number of generation slots and a bounded FIFO line for the rest."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class QueueFullError(Exception):
    """The line is full: the client should retry later (HTTP 429 with Retry-After)."""


class ClientGoneError(Exception):
    """The client disconnected before its turn came."""


class GenerationQueue:
    """`slots` generations at once; up to `max_waiting` more requests wait, served first come first served.

    Lives on one event loop; not thread-safe (only the loop's coroutines touch it)."""

    def __init__(self, slots: int, max_waiting: int) -> None:
        self.slots, self.max_waiting = slots, max_waiting
        self._busy = 0
        self._line: deque[asyncio.Future[None]] = deque()

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def waiting(self) -> int:
        return sum(1 for future in self._line if not future.done())

    def enter(self) -> Ticket:
        """A place: a slot now, or a place in line; QueueFullError when the line is full."""
        self._line = deque(future for future in self._line if not future.done())  # drop abandoned places
        if self._busy < self.slots and not self._line:
            self._busy += 1
            return Ticket(self, None)
        if self.waiting >= self.max_waiting:
            raise QueueFullError
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._line.append(future)
        return Ticket(self, future)

    def _release(self) -> None:
        while self._line:
            future = self._line.popleft()
            if not future.done():
                future.set_result(None)  # the slot passes to the next in line
                return
        self._busy -= 1


class Ticket:
    """One request's place. `wait()` until it holds a slot; `leave()` (idempotent) frees the slot or the place."""

    def __init__(self, queue: GenerationQueue, future: asyncio.Future[None] | None) -> None:
        self._queue, self._future = queue, future
        self._left = False

    @property
    def holds_slot(self) -> bool:
        return self._future is None or (self._future.done() and not self._future.cancelled() and not self._failed)

    @property
    def _failed(self) -> bool:
        return (
            self._future is not None
            and self._future.done()
            and not self._future.cancelled()
            and (self._future.exception() is not None)
        )

    async def wait(self) -> None:
        if self._future is not None:
            await asyncio.shield(self._future)

    def abandon(self) -> None:
        """The client is gone: a waiting `wait()` raises ClientGoneError (a held slot stays held until leave)."""
        if self._future is not None and not self._future.done():
            self._future.set_exception(ClientGoneError())
            self._future.exception()  # retrieved: no "never retrieved" warning when nobody waits

    def leave(self) -> None:
        if self._left:
            return
        self._left = True
        if self.holds_slot:
            self._queue._release()
        elif self._future is not None:
            if not self._future.done():
                self._future.cancel()
            with contextlib.suppress(ValueError):
                self._queue._line.remove(self._future)
