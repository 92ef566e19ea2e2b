"""What the bubblewrap and the unsafe sandbox share: a `Kernel` on this machine plus a host work folder.

Subclasses build the folders and the kernel command, then call `_start`; cleanup is a `weakref.finalize`, so a
session nobody closed is still torn down when it is garbage-collected or the interpreter exits.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path

from rixin.sandbox.base import Limits, RunError, RunResult, Sandbox, SandboxError
from rixin.sandbox.files import WorkFolder, changed
from rixin.sandbox.kernel import Kernel, KernelCommand
from rixin.sandbox.outputs import OutputCollector


class HostedSandbox(Sandbox):
    """A `Sandbox` whose kernel runs on this machine and whose work folder is a host folder."""

    def __init__(self, limits: Limits | None, image_dir: Path | None) -> None:
        self.session_id = uuid.uuid4().hex[:12]
        self.limits = limits or Limits()
        self.image_dir = image_dir
        self.work: WorkFolder | None = None
        self.disk_enforcement = "checked after each run"
        """How `limits.disk_mb` is enforced: "tmpfs" (a hard cap) or checked after each run (an error then)."""
        self._kernel: Kernel | None = None
        self._run_lock = threading.Lock()
        self._closed = False
        self.last_active = time.monotonic()
        """When the session was last used (monotonic clock); a pool closes sessions idle too long."""
        self._finalizer: weakref.finalize[[], HostedSandbox] | None = None

    def _start(self, command: KernelCommand, work: WorkFolder, cleanup: Callable[[], None]) -> None:
        """Start the kernel; on failure run `cleanup` and re-raise. `cleanup` must not refer to `self`."""
        self.work = work
        kernel = Kernel(command, start_timeout_s=max(60.0, self.limits.timeout_s))
        self._kernel = kernel

        def close_all() -> None:
            try:
                kernel.close()
            finally:
                cleanup()

        self._finalizer = weakref.finalize(self, close_all)
        try:
            kernel.start()
        except BaseException:
            self.close()
            raise

    def _check_open(self) -> tuple[Kernel, WorkFolder]:
        if self._closed or self._kernel is None or self.work is None:
            raise SandboxError(f"sandbox session {self.session_id} is closed")
        self.last_active = time.monotonic()
        return self._kernel, self.work

    def run(self, code: str, timeout_s: float | None = None) -> RunResult:
        kernel, work = self._check_open()
        with self._run_lock:
            before = work.snapshot()
            collector = OutputCollector(self.limits.max_output_chars, self.image_dir)
            started = time.monotonic()
            try:
                outcome = kernel.execute(code, timeout_s or self.limits.timeout_s, collector)
            except SandboxError:
                self._check_open()  # closed from another thread: say so rather than report a dead kernel
                raise
            result = collector.result(time.monotonic() - started, outcome.timed_out, changed(before, work.snapshot()))
            self._after_run(result)
            self.last_active = time.monotonic()
            return result

    def _after_run(self, result: RunResult) -> None:
        """Where no tmpfs caps the work folder, its size is checked after the fact and reported as the error."""
        if self.disk_enforcement == "tmpfs" or self.work is None:
            return
        used = self.work.total_bytes()
        if used > self.limits.disk_mb << 20 and result.error is None:
            message = f"the work folder holds {used >> 20} MiB, over the {self.limits.disk_mb} MiB limit"
            result.error = RunError("DiskLimitExceeded", message, f"DiskLimitExceeded: {message}")

    def interrupt(self) -> None:
        kernel, _ = self._check_open()
        kernel.interrupt()

    def upload(self, name: str, data: bytes) -> str:
        _, work = self._check_open()
        return work.write(name, data)

    def download(self, name: str) -> bytes:
        _, work = self._check_open()
        return work.read(name)

    def list_files(self) -> list[str]:
        _, work = self._check_open()
        return work.list()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def alive(self) -> bool:
        """Open, with a running kernel (a pool skips sessions whose kernel died while they waited)."""
        return not self._closed and self._kernel is not None and self._kernel.alive

    def close(self) -> None:
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()
