"""SandboxPool: warm hand-out, distinct sessions, refilling, the idle reaper and shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from rixin.sandbox import LocalSandbox, SandboxPool, SandboxRuntime
from rixin.sandbox.base import Limits, Sandbox, SandboxError

pytestmark = pytest.mark.timeout(120)

LIMITS = Limits(timeout_s=30, memory_mb=1024, max_processes=48, disk_mb=64)


def factory(runtime: SandboxRuntime, limits: Limits = LIMITS) -> Callable[[], Sandbox]:
    return lambda: LocalSandbox(limits, runtime=runtime)


def test_warm_hand_out_is_fast_and_sessions_are_distinct(sandbox_runtime: SandboxRuntime) -> None:
    with SandboxPool(size=2, limits=LIMITS, factory=factory(sandbox_runtime)) as pool:
        assert pool.wait_ready(timeout_s=60), pool.last_error
        started = time.perf_counter()
        first = pool.acquire()
        elapsed = time.perf_counter() - started
        second = pool.acquire()
        assert elapsed < 0.015, f"warm hand-out took {elapsed * 1000:.1f} ms"
        assert first.session_id != second.session_id
        # Warm: pandas and pyplot are already imported, yet no names were left in the user's namespace.
        result = first.run("import sys\nprint('pandas' in sys.modules, 'matplotlib.pyplot' in sys.modules)\nnumpy")
        assert result.stdout == "True True\n"
        assert result.error is not None and result.error.name == "NameError"
        first.run("secret = 'user one'")
        assert second.run("'secret' in globals()").results == ["False"]
        first.upload("mine.txt", b"1")
        assert "mine.txt" not in second.list_files()
        pool.release(first)
        pool.release(second)
        assert first.closed and second.closed  # type: ignore[attr-defined]
        assert pool.wait_ready(timeout_s=60), "the pool did not refill"


def test_cold_session_when_none_is_ready(sandbox_runtime: SandboxRuntime) -> None:
    with SandboxPool(size=0, limits=LIMITS, factory=factory(sandbox_runtime)) as pool:
        session = pool.acquire()
        assert session.run("1 + 1").results == ["2"]
        pool.release(session)


def test_concurrent_acquire_gives_distinct_sessions(sandbox_runtime: SandboxRuntime) -> None:
    got: list[Sandbox] = []
    lock = threading.Lock()
    with SandboxPool(size=1, limits=LIMITS, factory=factory(sandbox_runtime)) as pool:
        assert pool.wait_ready(timeout_s=60), pool.last_error

        def take() -> None:
            session = pool.acquire()
            with lock:
                got.append(session)

        threads = [threading.Thread(target=take) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({session.session_id for session in got}) == 3
        assert all(session.run("3 * 3").results == ["9"] for session in got)
    assert all(session.closed for session in got)  # type: ignore[attr-defined]  # close() closes leased ones too


def test_idle_sessions_are_reaped(sandbox_runtime: SandboxRuntime) -> None:
    limits = Limits(timeout_s=30, memory_mb=1024, idle_timeout_s=1.0)
    with SandboxPool(size=0, limits=limits, factory=factory(sandbox_runtime, limits)) as pool:
        session = pool.acquire()
        deadline = time.monotonic() + 10
        while not session.closed and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.1)
        assert session.closed  # type: ignore[attr-defined]
        with pytest.raises(SandboxError):
            session.run("1")


def test_a_failing_factory_does_not_kill_the_pool() -> None:
    calls = 0

    def broken() -> Sandbox:
        nonlocal calls
        calls += 1
        raise SandboxError("no runtime here")

    pool = SandboxPool(size=1, factory=broken)
    try:
        deadline = time.monotonic() + 5
        while pool.last_error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert isinstance(pool.last_error, SandboxError)
        with pytest.raises(SandboxError, match="no runtime here"):
            pool.acquire()
    finally:
        started = time.monotonic()
        pool.close()
        assert time.monotonic() - started < 2  # the back-off wait wakes up on close
    with pytest.raises(SandboxError):
        pool.acquire()
