"""`SandboxPool`: sessions started ahead of time, so a user gets a warm kernel in microseconds, not half a
second plus the pandas/matplotlib import.

Sessions are never reused across users: `release` closes a session, and a background thread starts a
replacement. The same thread closes handed-out sessions nobody has used for `limits.idle_timeout_s`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from rixin.sandbox.base import Limits, Sandbox, SandboxError

log = logging.getLogger(__name__)

WARMUP_CODE = (
    # Imported for their import time only: the modules stay in sys.modules, the names leave the namespace.
    "import numpy, pandas, matplotlib, matplotlib.pyplot\ndel numpy, pandas, matplotlib\n"
)
_RETRY_S = (1.0, 5.0, 30.0)
"""Back-off after failed starts, so a broken runtime does not turn the pool into a busy loop."""


@dataclass
class _Lease:
    sandbox: Sandbox
    since: float


class SandboxPool:
    """Keeps `size` warm sessions ready. Thread-safe."""

    def __init__(
        self,
        size: int = 2,
        limits: Limits | None = None,
        factory: Callable[[], Sandbox] | None = None,
        warmup_code: str = WARMUP_CODE,
    ) -> None:
        self.size = size
        self.limits = limits or Limits()
        self.warmup_code = warmup_code
        self._factory = factory or self._default_factory
        self._ready: deque[Sandbox] = deque()
        self._leased: dict[int, _Lease] = {}
        self._starting = 0
        self._failures = 0
        self.last_error: BaseException | None = None
        """The most recent failure to start or warm a session (for a health check)."""
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="rixin-sandbox-pool", daemon=True)
        self._thread.start()

    def _default_factory(self) -> Sandbox:
        from rixin.sandbox.local import LocalSandbox

        return LocalSandbox(self.limits)

    # --- handing out --------------------------------------------------------------------------------------------

    def acquire(self) -> Sandbox:
        """A warm session if one is ready, else a freshly started (cold) one. The caller owns it until `release`."""
        with self._cond:
            if self._closed:
                raise SandboxError("the sandbox pool is closed")
            while self._ready:
                sandbox = self._ready.popleft()
                if _usable(sandbox):
                    self._lease(sandbox)
                    self._cond.notify_all()
                    return sandbox
                _close_quietly(sandbox)
            self._cond.notify_all()
        sandbox = self._factory()
        with self._cond:
            if self._closed:
                _close_quietly(sandbox)
                raise SandboxError("the sandbox pool is closed")
            self._lease(sandbox)
        return sandbox

    def _lease(self, sandbox: Sandbox) -> None:
        self._leased[id(sandbox)] = _Lease(sandbox, time.monotonic())

    def release(self, sandbox: Sandbox) -> None:
        """Close a session handed out by `acquire` (its state belongs to one user and is never handed on)."""
        with self._cond:
            self._leased.pop(id(sandbox), None)
        sandbox.close()

    @property
    def ready(self) -> int:
        with self._cond:
            return len(self._ready)

    def wait_ready(self, count: int | None = None, timeout_s: float = 60.0) -> bool:
        """Block until `count` (default: all `size`) sessions are warm; False on timeout."""
        want = self.size if count is None else count
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self._ready) < want and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return len(self._ready) >= want

    # --- background ----------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                idle = self._idle_leases()
                missing = self.size - len(self._ready) - self._starting
                if missing <= 0 and not idle:
                    self._cond.wait(self._reap_interval())
                    continue
                if missing > 0:
                    self._starting += 1
            for sandbox in idle:
                _close_quietly(sandbox)
            if missing <= 0:
                continue
            started = self._start_warm()
            with self._cond:
                self._starting -= 1
                if started is not None and not self._closed:
                    self._ready.append(started)
                    started = None
                self._cond.notify_all()
            if started is not None:  # the pool closed while it started
                _close_quietly(started)

    def _start_warm(self) -> Sandbox | None:
        sandbox: Sandbox | None = None
        try:
            sandbox = self._factory()
            result = sandbox.run(self.warmup_code, timeout_s=max(120.0, self.limits.timeout_s))
            if not result.ok:
                raise SandboxError(f"the pool's warm-up code failed: {result.error or 'timed out'}")
        except Exception as exc:  # a broken runtime must not kill the pool's thread
            log.warning("sandbox pool: could not start a session: %s", exc)
            self.last_error = exc
            if sandbox is not None:
                _close_quietly(sandbox)
            pause = _RETRY_S[min(self._failures, len(_RETRY_S) - 1)]
            self._failures += 1
            with self._cond:
                self._cond.wait_for(lambda: self._closed, timeout=pause)
            return None
        self._failures = 0
        return sandbox

    def _reap_interval(self) -> float:
        return max(0.5, min(30.0, self.limits.idle_timeout_s / 4))

    def _idle_leases(self) -> list[Sandbox]:
        """Take handed-out sessions idle past the limit off the books (lock held); the caller closes them."""
        now = time.monotonic()
        idle = []
        for key, lease in list(self._leased.items()):
            last = max(lease.since, getattr(lease.sandbox, "last_active", lease.since))
            if now - last > self.limits.idle_timeout_s:
                del self._leased[key]
                log.info("sandbox pool: closing session %s, idle for %.0f s", lease.sandbox.session_id, now - last)
                idle.append(lease.sandbox)
        return idle

    def close(self) -> None:
        """Stop the background thread and close every session, the handed-out ones included. Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=120)
        with self._cond:
            sessions = [*self._ready, *(lease.sandbox for lease in self._leased.values())]
            self._ready.clear()
            self._leased.clear()
        for sandbox in sessions:
            _close_quietly(sandbox)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _usable(sandbox: Sandbox) -> bool:
    return bool(getattr(sandbox, "alive", True))


def _close_quietly(sandbox: Sandbox) -> None:
    with contextlib.suppress(Exception):
        sandbox.close()
