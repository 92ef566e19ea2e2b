"""One background thread with an asyncio event loop, shared by every MCP connection.

The MCP SDK is async and the agent loop is sync: sessions live on this loop, and sync code hands it
coroutines and waits on concurrent futures with its own timeouts, so a stuck server never blocks the caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            # A daemon thread: an interpreter that exits must not wait for plugins (their close runs at exit).
            threading.Thread(target=loop.run_forever, name="rixin-plugins", daemon=True).start()
            _loop = loop
        return _loop


def submit(coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule `coroutine` on the background loop; the future can be waited on (and cancelled) from any thread."""
    return asyncio.run_coroutine_threadsafe(coroutine, _background_loop())


def call_soon(callback: Any, *args: Any) -> None:
    _background_loop().call_soon_threadsafe(callback, *args)
