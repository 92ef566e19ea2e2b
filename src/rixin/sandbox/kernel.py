"""The Jupyter plumbing shared by the bubblewrap and the unsafe local sandboxes: start an ipykernel over IPC
sockets, execute with a deadline, interrupt by message, kill and restart.

jupyter_client's `Session` signs and parses the messages; the sockets are plain pyzmq, driven from the calling
thread (no background event loop), so a run costs one round trip and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.session import Session

from rixin.sandbox.base import RunError, SandboxError
from rixin.sandbox.outputs import OutputCollector

INTERRUPT_GRACE_S = 2.0
"""After an interrupt, how long the kernel gets to return to idle before it is killed and restarted."""
_POLL_S = 0.1
"""How often a waiting run checks that the kernel process is still alive."""
_CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
MAX_MESSAGE_BYTES = 256 << 20
"""zmq drops a peer that sends a bigger message, so hostile code cannot make the host buffer gigabytes."""


class _Launcher:
    """Starts processes from one thread that lives as long as the interpreter.

    bwrap's --die-with-parent is PR_SET_PDEATHSIG, which fires when the *thread* that forked it exits: a session
    started from a short-lived thread (a pool filler, a request handler) would be SIGKILLed with it."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, argv: list[str], **options: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="rixin-sandbox-launcher", daemon=True)
                self._thread.start()
        done: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((lambda: subprocess.Popen(argv, **options), done))
        return done.result()

    def _serve(self) -> None:
        while True:
            job, done = self._jobs.get()
            try:
                done.set_result(job())
            except BaseException as exc:
                done.set_exception(exc)


_LAUNCHER = _Launcher()


@dataclass
class KernelCommand:
    """How to start one kernel: `argv(kernel_connection_file)` is the full command line (wrappers included)."""

    argv: Callable[[str], list[str]]
    env: dict[str, str]
    cwd: str
    host_run_dir: Path
    """Where the IPC sockets and the connection file are on the host."""
    kernel_run_dir: str
    """The same folder as the kernel sees it (differs inside a sandbox)."""
    owner: tuple[int, int] | None = None
    """uid/gid that must be able to read the connection file (the sandbox user), or None."""
    on_kill: Callable[[], None] | None = None
    """Called after the process group was killed, before any restart (e.g. empty the session's cgroups)."""


@dataclass
class Outcome:
    timed_out: bool = False
    restarted: str | None = None
    """Why the kernel was killed and restarted during this run (state lost), or None."""


class Kernel:
    """One kernel process and its sockets. `execute` runs on one thread at a time; `interrupt` may come from
    another thread."""

    def __init__(self, command: KernelCommand, start_timeout_s: float = 60.0) -> None:
        self.command = command
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self._context = zmq.Context()
        self._sockets: dict[str, zmq.Socket[bytes]] = {}
        self._session = Session()
        self._control_lock = threading.Lock()
        """Guards the sockets against `interrupt` from another thread."""
        self._io_lock = threading.Lock()
        """Held by `execute`; `close` takes it before closing sockets (zmq sockets are not thread-safe)."""
        self._closing = False
        self._generation = 0
        self._stderr_tail: _StderrTail | None = None

    # --- life cycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._closing:
            raise SandboxError("the sandbox session is closed")
        self._generation += 1
        prefix = f"k{self._generation}"
        key = secrets.token_hex(16)
        info: dict[str, Any] = {
            "transport": "ipc",
            "ip": f"{self.command.kernel_run_dir}/{prefix}",
            "key": key,
            "signature_scheme": "hmac-sha256",
            "kernel_name": "rixin",
        }
        info.update({f"{name}_port": number for number, name in enumerate(_CHANNELS, start=1)})
        _empty_folder(self.command.host_run_dir)  # sockets of the last kernel, or junk the code left there
        connection_file = self.command.host_run_dir / f"{prefix}.json"
        fd = os.open(connection_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            if self.command.owner:
                os.fchown(handle.fileno(), *self.command.owner)
            json.dump(info, handle)
        self._session = Session(key=key.encode(), signature_scheme="hmac-sha256")
        argv = self.command.argv(f"{self.command.kernel_run_dir}/{connection_file.name}")
        try:
            # A process group of its own, so a kill reaches every process it started (outside a pid namespace).
            # stderr is a pipe drained by a thread: ipykernel echoes all fd-level output there, and a log file
            # would fill up (then the echo fails, ipykernel's fd watcher dies, and the kernel blocks on write).
            self.process = _LAUNCHER.popen(
                argv,
                env=self.command.env,
                cwd=self.command.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise SandboxError(f"could not start the kernel ({argv[0]}): {exc}") from exc
        self._stderr_tail = _StderrTail(self.process)
        try:
            self._connect(f"ipc://{self.command.host_run_dir}/{prefix}")
            self._wait_ready(time.monotonic() + self.start_timeout_s)
        except BaseException:
            self.kill()
            raise

    def _connect(self, base: str) -> None:
        kinds = {"shell": zmq.DEALER, "iopub": zmq.SUB, "control": zmq.DEALER}
        identity = secrets.token_hex(8).encode()
        with self._control_lock:
            for number, name in enumerate(_CHANNELS, start=1):
                if name not in kinds:
                    continue
                sock = self._context.socket(kinds[name])
                sock.linger = 0
                sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
                if name == "iopub":
                    sock.setsockopt(zmq.SUBSCRIBE, b"")
                else:
                    sock.setsockopt(zmq.IDENTITY, identity)
                sock.connect(f"{base}-{number}")
                self._sockets[name] = sock

    def _wait_ready(self, deadline: float) -> None:
        """kernel_info until it answers on shell *and* iopub has delivered something (the SUB socket is live)."""
        shell, iopub = self._sockets["shell"], self._sockets["iopub"]
        replied = published = False
        next_request = 0.0
        while not (replied and published):
            now = time.monotonic()
            if now > deadline:
                raise SandboxError(f"the kernel did not answer within {self.start_timeout_s:.0f} s{self._stderr()}")
            if self._closing:
                raise SandboxError("the sandbox session was closed while its kernel started")
            if self.process is None or self.process.poll() is not None:
                raise SandboxError(f"the kernel exited while starting{self._stderr()}")
            if not published and now >= next_request:
                self._session.send(shell, "kernel_info_request", {})
                next_request = now + 0.25
            ready = dict(self._poll([shell, iopub], 0.02))
            if shell in ready:
                message = self._recv(shell)
                replied = replied or bool(message and message["msg_type"] == "kernel_info_reply")
            if iopub in ready:
                self._recv(iopub)
                published = True
        self._drain(shell)

    def _kill_process(self) -> None:
        """SIGKILL the process group (safe from any thread). Idempotent."""
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            if self.command.on_kill:
                self.command.on_kill()

    def _close_sockets(self) -> None:
        with self._control_lock:
            for sock in self._sockets.values():
                sock.close(linger=0)
            self._sockets.clear()

    def kill(self) -> None:
        self._kill_process()
        self._close_sockets()

    def restart(self) -> None:
        self.kill()
        self.start()

    def close(self) -> None:
        """Kill the kernel; then, once a run in another thread has noticed (within _POLL_S), free the sockets."""
        self._closing = True
        self._kill_process()
        with self._io_lock:
            self._kill_process()  # a restart in a run on another thread may have started a new one meanwhile
            self._close_sockets()
            self._context.term()

    @property
    def alive(self) -> bool:
        process = self.process
        return process is not None and process.poll() is None

    # --- running ----------------------------------------------------------------------------------------------

    def interrupt(self) -> None:
        """KeyboardInterrupt in the kernel through an `interrupt_request` on the control channel."""
        with self._control_lock:
            control = self._sockets.get("control")
            if control is not None:
                self._drain(control)  # earlier interrupt_replies nobody reads
                self._session.send(control, "interrupt_request", {})

    def execute(self, code: str, timeout_s: float, collector: OutputCollector) -> Outcome:
        """Run `code`, feeding this request's iopub messages to `collector` until the kernel is idle again."""
        with self._io_lock:
            if self._closing:
                raise SandboxError("the sandbox session is closed")
            try:
                return self._execute(code, timeout_s, collector)
            except zmq.ZMQError as exc:
                raise SandboxError(f"lost the connection to the kernel: {exc}") from exc

    def _execute(self, code: str, timeout_s: float, collector: OutputCollector) -> Outcome:
        if not self.alive:
            return self._restart(collector, "the kernel had died since the last run, so this code was not run")
        shell, iopub = self._sockets["shell"], self._sockets["iopub"]
        self._drain(shell)
        self._drain(iopub)
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        request = self._session.send(shell, "execute_request", content)
        assert request is not None
        msg_id = request["header"]["msg_id"]
        deadline = time.monotonic() + timeout_s
        if self._wait_idle(msg_id, deadline, collector):
            return Outcome()
        if self._closing:
            raise SandboxError("the sandbox session was closed during the run")
        if not self.alive:
            return self._restart(collector, "the kernel died (it may have run out of memory)")
        self.interrupt()
        if self._wait_idle(msg_id, time.monotonic() + INTERRUPT_GRACE_S, collector):
            return Outcome(timed_out=True)
        return Outcome(
            timed_out=True,
            restarted=self._restart(collector, f"the run did not stop within {timeout_s:g} s").restarted,
        )

    def _wait_idle(self, msg_id: str, deadline: float, collector: OutputCollector) -> bool:
        """True once the kernel reports idle for `msg_id`; False at the deadline or if the process died."""
        iopub = self._sockets["iopub"]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self._poll([iopub], min(remaining, _POLL_S)):
                if not self.alive:
                    return False
                continue
            message = self._recv(iopub)
            if message is None or message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "status":
                if message["content"].get("execution_state") == "idle":
                    return True
                continue
            try:
                collector.handle(message)
            except Exception:  # a message the code forged with odd types: drop it, never crash the host
                continue

    def _recv(self, sock: zmq.Socket[bytes]) -> dict[str, Any] | None:
        """One message, or None for a malformed one: the code in the kernel holds the key and can send anything."""
        try:
            _, message = self._session.recv(sock, mode=zmq.NOBLOCK)
        except zmq.ZMQError:
            raise
        except Exception:
            return None
        if not isinstance(message, dict):
            return None
        for part in ("header", "parent_header", "content"):
            if not isinstance(message.get(part), dict):
                return None
        if not isinstance(message.get("msg_type"), str):
            return None
        return message

    def _restart(self, collector: OutputCollector, why: str) -> Outcome:
        detail = f"{why}; the kernel was restarted and every variable, import and definition was lost"
        collector.error = RunError("SessionRestarted", detail, f"SessionRestarted: {detail}")
        self.restart()
        return Outcome(restarted=detail)

    # --- helpers ----------------------------------------------------------------------------------------------

    @staticmethod
    def _poll(sockets: list[zmq.Socket[bytes]], timeout_s: float) -> list[tuple[Any, int]]:
        poller = zmq.Poller()
        for sock in sockets:
            poller.register(sock, zmq.POLLIN)
        return list(poller.poll(round(timeout_s * 1000)))

    def _drain(self, sock: zmq.Socket[bytes]) -> None:
        while sock.poll(0):
            sock.recv_multipart()

    def _stderr(self) -> str:
        """The end of the kernel's stderr, for start-up failures."""
        time.sleep(0.05)  # let the reader catch the last words of a process that just exited
        text = self._stderr_tail.text().strip() if self._stderr_tail else ""
        return f": {text}" if text else ""


class _StderrTail:
    """Reads a process's stderr until EOF on a daemon thread, keeping only the last few KiB."""

    KEEP = 4096

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._tail = bytearray()
        self._lock = threading.Lock()
        if process.stderr is not None:
            threading.Thread(target=self._read, args=(process.stderr,), daemon=True, name="rixin-kernel-stderr").start()

    def _read(self, stream: Any) -> None:
        with stream:
            while chunk := stream.read1(65536):
                with self._lock:
                    self._tail += chunk
                    del self._tail[: -self.KEEP]

    def text(self) -> str:
        with self._lock:
            return self._tail.decode(errors="replace")


def _empty_folder(folder: Path) -> None:
    """Remove everything inside `folder` without following symlinks (the sandbox can write there)."""
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
