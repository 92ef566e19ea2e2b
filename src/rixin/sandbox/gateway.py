"""`GatewaySandbox`: a session on a remote Jupyter Kernel Gateway, for running many sessions off this machine.

Each sandbox is one kernel created with `POST {url}/api/kernels`, driven through the Jupyter messaging protocol
as JSON over the websocket `{url}/api/kernels/{id}/channels`. The gateway has no files API, so uploads,
downloads and listings are small helper functions executed in the kernel itself (silently, answered through
`user_expressions`); they work in a fresh per-session folder (a temporary directory on the gateway machine)
that the kernel chdirs into at start.

Isolation: a Kernel Gateway runs code with the privileges of its own host. Nothing here confines the code
beyond that: the gateway must run inside its own container or VM, with nothing on it worth protecting and no
network it should not reach. Of `Limits`, the timeout and output bound are enforced here; the memory bound and
the largest file are applied to the kernel as rlimits (best effort); processes and disk size are the gateway
machine's job (cgroups, a size-limited volume).
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from rixin.sandbox.base import Limits, RunError, RunResult, Sandbox, SandboxError, SandboxFileError, safe_relative_path
from rixin.sandbox.outputs import OutputCollector

UPLOAD_CHUNK = 1024 * 1024
"""Raw bytes per upload message (base64 makes it 1.4 MB; Tornado refuses websocket messages over 10 MiB)."""
DOWNLOAD_CHUNK = 2 * 1024 * 1024
WS_MAX_MESSAGE = 64 * 1024 * 1024
"""Largest message accepted from the gateway: a PNG of OutputCollector's maximum size, base64-encoded."""
HELPER_TIMEOUT_S = 30.0
START_TIMEOUT_S = 60.0
PROTOCOL_VERSION = "5.3"

# Runs inside the kernel, as a module of its own in sys.modules (the user's namespace stays clean). It is
# re-installed before every helper call, so a restarted kernel or code that deleted it does not matter. Every
# function takes the work folder explicitly: the user's code may chdir elsewhere. The kernel re-checks names
# and refuses symlinks because it is the side that touches the disk. Kept compatible with older Pythons: the
# gateway's kernel need not be the Python running rixin.
_HELPER_SOURCE = r"""
import base64, json, os, shutil, stat, tempfile

class FileProblem(Exception):
    pass

def _reply(fn, *args):
    try:
        return json.dumps({"ok": True, "value": fn(*args)})
    except FileProblem as exc:
        return json.dumps({"ok": False, "file": True, "message": str(exc)})
    except OSError as exc:
        return json.dumps({"ok": False, "file": True, "message": "%s: %s" % (type(exc).__name__, exc.strerror or exc)})

def _root(root):
    st = os.lstat(root)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise FileProblem("the work folder %s is no longer a directory" % root)
    return root

def _resolve(root, name, create_parents=False):
    parts = name.split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\x00" in name:
        raise FileProblem("invalid file name %r" % name)
    path = _root(root)
    for index, part in enumerate(parts):
        path = os.path.join(path, part)
        last = index == len(parts) - 1
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            if last:
                return path, None
            if not create_parents:
                raise FileProblem("no such file: %s" % name)
            os.mkdir(path, 0o700)
            continue
        if stat.S_ISLNK(st.st_mode):
            raise FileProblem("%s is a symbolic link; refused" % "/".join(parts[: index + 1]))
        if not last and not stat.S_ISDIR(st.st_mode):
            raise FileProblem("%s is not a directory" % "/".join(parts[: index + 1]))
    return path, st

def setup(work, memory_bytes, file_bytes):
    if work is None:
        work = tempfile.mkdtemp(prefix="rixin-")
    os.chdir(_root(work))
    try:
        import resource
        for kind, wanted in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_FSIZE, file_bytes)):
            soft, hard = resource.getrlimit(kind)
            if hard != resource.RLIM_INFINITY:
                wanted = min(wanted, hard)
            resource.setrlimit(kind, (wanted, wanted))
    except (ImportError, ValueError, OSError):
        pass
    return work

def snapshot(root, limit=20000):
    found = {}
    root = _root(root)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))
        for name in sorted(files):
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found[os.path.relpath(path, root).replace(os.sep, "/")] = [st.st_size, st.st_mtime_ns]
                if len(found) >= limit:
                    return found
    return found

def put(root, name, temp, data, first, last):
    path, st = _resolve(root, name, create_parents=True)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise FileProblem("%s exists and is not a regular file" % name)
    temp_path = os.path.join(os.path.dirname(path), temp)
    # Later chunks need the file the first one made: if it is gone, fail rather than write a partial file.
    flags = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | (os.O_CREAT | os.O_TRUNC if first else os.O_APPEND)
    try:
        fd = os.open(temp_path, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64decode(data))
        if last:
            os.replace(temp_path, path)
    except BaseException:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)
        raise
    return None

def get(root, name, offset, length, cap):
    path, st = _resolve(root, name)
    if st is None:
        raise FileProblem("no such file: %s" % name)
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem("%s is not a regular file" % name)
    if st.st_size > cap:
        raise FileProblem("%s is %d bytes, over the %d-byte limit" % (name, st.st_size, cap))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    return {"size": st.st_size, "data": base64.b64encode(data).decode("ascii")}

def remove(root):
    if os.path.basename(root).startswith("rixin-"):
        shutil.rmtree(root, ignore_errors=True)
    return None
"""
_HELPER_MODULE = "_rixin_gateway_helpers"
_INSTALL_HELPERS = (
    f"exec(compile({_HELPER_SOURCE!r}, '<rixin>', 'exec'), __import__('sys').modules.setdefault("
    f"{_HELPER_MODULE!r}, __import__('types').ModuleType({_HELPER_MODULE!r})).__dict__)"
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class _Progress:
    """Which of the two end-of-run messages (execute_reply on shell, idle status on iopub) have come."""

    replied: bool = False
    idle: bool = False


class _KernelDied(SandboxError):
    """The gateway reported the kernel restarting or dead while a request was in flight."""


class GatewaySandbox(Sandbox):
    """One session: a kernel on the Jupyter Kernel Gateway at `url` (e.g. ``http://gateway:8888``).

    The gateway runs code with its own host's privileges; see the module docstring. `auth_token` is the
    gateway's KG_AUTH_TOKEN, sent as ``Authorization: token ...``. PNG outputs are saved under `image_dir`
    (by default a temporary folder of this session, removed by `close`).
    """

    interrupt_grace_s: float = 5.0
    """How long an interrupted run may take to stop before the kernel is restarted."""

    def __init__(
        self,
        url: str,
        *,
        limits: Limits | None = None,
        image_dir: Path | None = None,
        auth_token: str | None = None,
        kernel_name: str = "python3",
    ) -> None:
        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise SandboxError(f"Kernel Gateway URL must start with http:// or https://, got {url!r}")
        self.limits = limits or Limits()
        self.session_id = uuid.uuid4().hex
        self.kernel_name = kernel_name
        self._own_image_dir = image_dir is None
        self.image_dir = image_dir if image_dir is not None else Path(tempfile.mkdtemp(prefix="rixin-gw-images-"))
        self._headers = {"Authorization": f"token {auth_token}"} if auth_token else {}
        self._http = httpx.Client(base_url=self.url, headers=self._headers, timeout=httpx.Timeout(30.0, connect=10.0))
        self._lock = threading.Lock()
        self._closed = False
        self._ws: ClientConnection | None = None
        self._client_session = ""
        self.kernel_id = ""
        self.work_dir = ""
        try:
            model = self._request("POST", "/api/kernels", json={"name": kernel_name}, timeout=START_TIMEOUT_S)
            kernel_id = model.get("id") if isinstance(model, dict) else None
            if not isinstance(kernel_id, str) or not kernel_id:
                raise SandboxError(f"Kernel Gateway at {self.url} answered POST /api/kernels without a kernel id")
            self.kernel_id = kernel_id
            self._connect()
            self._setup()
        except BaseException:
            self._shutdown(remove_work=False)
            raise

    # --- HTTP and websocket plumbing -------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, json: Any = None, timeout: float | None = None) -> Any:
        try:
            response = self._http.request(
                method, path, json=json, timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT
            )
        except httpx.TimeoutException as exc:
            raise SandboxError(f"Kernel Gateway at {self.url} did not answer {method} {path} in time: {exc}") from exc
        except httpx.HTTPError as exc:
            raise SandboxError(f"cannot reach the Kernel Gateway at {self.url}: {exc}") from exc
        if response.is_error:
            detail = ""
            try:
                body = response.json()
                if isinstance(body, dict):
                    detail = str(body.get("message") or body.get("reason") or "")
            except ValueError:
                detail = response.text[:200]
            hint = " (check the auth token, KG_AUTH_TOKEN)" if response.status_code in (401, 403) else ""
            raise SandboxError(
                f"Kernel Gateway at {self.url} refused {method} {path}: HTTP {response.status_code}"
                f"{': ' + detail if detail else ''}{hint}"
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def _kernel_path(self, action: str = "") -> str:
        return f"/api/kernels/{quote(self.kernel_id, safe='')}{action}"

    def _connect(self) -> None:
        ws_url = "ws" + self.url[len("http") :] + self._kernel_path("/channels")
        # A fresh client session per connection: the gateway replays messages buffered for a known session.
        self._client_session = uuid.uuid4().hex
        try:
            self._ws = connect(
                f"{ws_url}?session_id={self._client_session}",
                additional_headers=self._headers,
                max_size=WS_MAX_MESSAGE,
                open_timeout=START_TIMEOUT_S,
                legacy=True,  # the connection outlives any one call: held here, closed by _disconnect()
            )
        except InvalidStatus as exc:
            raise SandboxError(
                f"Kernel Gateway at {self.url} refused the kernel websocket: HTTP {exc.response.status_code}"
            ) from exc
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise SandboxError(f"cannot open the kernel websocket of the Kernel Gateway at {self.url}: {exc}") from exc
        self._await_iopub(time.monotonic() + START_TIMEOUT_S)

    def _await_iopub(self, deadline: float) -> None:
        """Return once this connection receives the kernel's iopub messages. The gateway checks this itself
        when a socket opens, but skips the check while it still counts the kernel as busy, as it does right
        after restarting one stuck in a run; a run sent before the iopub subscription holds loses its output
        and its idle status. So: ask for kernel_info until a status message for one of the asks arrives."""
        asked: set[str] = set()
        while time.monotonic() < deadline:
            asked.add(self._send("kernel_info_request", {}))
            retry_at = min(deadline, time.monotonic() + 0.5)
            while (message := self._receive(retry_at)) is not None:
                if message.get("channel") == "iopub" and self._parent_id(message) in asked:
                    return
        raise SandboxError(f"the kernel on {self.url} sent no output messages in {START_TIMEOUT_S:.0f} s")

    def _disconnect(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):  # closing a broken socket has nothing left to report
                ws.close()

    def _send(self, msg_type: str, content: dict[str, Any], channel: str = "shell") -> str:
        ws = self._ws  # close() from another thread may clear it
        if ws is None:
            raise SandboxError(f"the session on {self.url} has no connection to its kernel")
        msg_id = uuid.uuid4().hex
        message = {
            "header": {
                "msg_id": msg_id,
                "username": "rixin",
                "session": self._client_session,
                "msg_type": msg_type,
                "version": PROTOCOL_VERSION,
                "date": _now(),
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
        try:
            ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            raise SandboxError(f"the connection to the kernel on {self.url} closed: {exc}") from exc
        return msg_id

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        """The next message, or None once `deadline` (time.monotonic) passes."""
        ws = self._ws  # close() from another thread may clear it
        if ws is None:
            raise SandboxError(f"the session on {self.url} was closed")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            raw = ws.recv(timeout=remaining)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            if self._closed:
                raise SandboxError(f"the session on {self.url} was closed") from exc
            raise SandboxError(f"the connection to the kernel on {self.url} closed: {exc}") from exc
        try:
            message = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(message, dict):
            return None
        header = message.get("header") or {}
        if (
            message.get("channel") == "iopub"
            and header.get("msg_type") == "status"
            and not (message.get("parent_header") or {}).get("msg_id")
            and (message.get("content") or {}).get("execution_state") in ("restarting", "dead")
        ):
            # The gateway's own notice: the kernel process exited (and is being restarted with fresh state).
            raise _KernelDied(f"the kernel on the Kernel Gateway at {self.url} died")
        return message

    @staticmethod
    def _parent_id(message: dict[str, Any]) -> str | None:
        parent = message.get("parent_header") or {}
        value = parent.get("msg_id")
        return value if isinstance(value, str) else None

    # --- kernel-side helpers --------------------------------------------------------------------------------

    def _helper(self, function: str, *args: Any, timeout: float = HELPER_TIMEOUT_S) -> Any:
        """Call a function of the kernel-side helper module; returns its value or raises SandboxFileError."""
        # An interrupt meant for a run that had just finished (a timeout race, or interrupt() from another
        # thread) can land in a helper instead: retry the ones that are safe to repeat.
        attempts = 1 if function == "put" else 2
        for attempt in range(attempts):
            content = self._helper_reply(function, args, timeout)
            answer = (content.get("user_expressions") or {}).get("r") or {}
            failed = content if content.get("status") != "ok" else answer if answer.get("status") != "ok" else None
            if failed is None:
                break
            if failed.get("ename") == "KeyboardInterrupt" and attempt + 1 < attempts:
                continue
            raise SandboxError(
                f"the kernel on {self.url} failed a file request: {failed.get('ename')}: {failed.get('evalue')}"
            )
        try:
            reply = json.loads(ast.literal_eval(answer["data"]["text/plain"]))
        except (KeyError, TypeError, ValueError, SyntaxError) as exc:
            raise SandboxError(f"the kernel on {self.url} sent an unreadable file reply") from exc
        if not reply.get("ok"):
            raise SandboxFileError(str(reply.get("message", "file operation refused")))
        return reply.get("value")

    def _helper_reply(self, function: str, args: tuple[Any, ...], timeout: float) -> dict[str, Any]:
        module = f"__import__('sys').modules[{_HELPER_MODULE!r}]"
        # The arguments are str, int, bool or None: their repr is a Python literal.
        expression = f"{module}._reply({module}.{function}, *{args!r})"
        msg_id = self._send(
            "execute_request",
            {
                "code": _INSTALL_HELPERS,
                "silent": True,
                "store_history": False,
                "user_expressions": {"r": expression},
                "allow_stdin": False,
                "stop_on_error": False,
            },
        )
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message is None:
                raise SandboxError(f"the kernel on {self.url} did not answer a file request in {timeout:.0f} s")
            if message.get("channel") == "shell" and self._parent_id(message) == msg_id:
                content = message.get("content")
                return content if isinstance(content, dict) else {}

    def _setup(self) -> None:
        work = self._helper(
            "setup",
            self.work_dir or None,
            self.limits.memory_mb * 1024 * 1024,
            self.limits.max_file_mb * 1024 * 1024,
        )
        if not isinstance(work, str):
            raise SandboxError(f"the kernel on {self.url} did not create its work folder")
        self.work_dir = work

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        found = self._helper("snapshot", self.work_dir)
        if not isinstance(found, dict):
            return {}
        return {str(name): (int(stat[0]), int(stat[1])) for name, stat in found.items()}

    # --- Sandbox API ----------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError(f"the session {self.session_id} on {self.url} was closed")

    @contextlib.contextmanager
    def _session(self) -> Iterator[None]:
        """Hold the session for one operation. A kernel that died takes the session with it: its variables
        are gone and the gateway restarts it without our work folder setup, so the caller should start anew."""
        with self._lock:
            self._check_open()
            try:
                yield
            except _KernelDied as exc:
                self._shutdown(remove_work=True)
                raise SandboxError(f"{exc}; the session was closed") from exc

    def run(self, code: str, timeout_s: float | None = None) -> RunResult:
        timeout = self.limits.timeout_s if timeout_s is None else timeout_s
        with self._session():
            return self._run(code, timeout)

    def _run(self, code: str, timeout: float) -> RunResult:
        before = self._snapshot()
        collector = OutputCollector(self.limits.max_output_chars, self.image_dir)
        started = time.monotonic()
        msg_id = self._send(
            "execute_request",
            {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False},
        )
        progress = _Progress()
        finished = self._collect(msg_id, collector, progress, started + timeout)
        timed_out = not finished
        if timed_out:
            self._post_interrupt()
            finished = self._collect(msg_id, collector, progress, time.monotonic() + self.interrupt_grace_s)
            if not finished:
                self._restart()
                collector.error = RunError(
                    name="SessionRestarted",
                    value=f"the run passed its {timeout:g} s limit and did not stop when interrupted; "
                    "the session was restarted and its variables are gone (files are kept)",
                    traceback="",
                )
        duration = time.monotonic() - started
        after = self._snapshot()
        changed = sorted(name for name, stat in after.items() if before.get(name) != stat)
        return collector.result(duration, timed_out=timed_out, files=changed)

    def _collect(self, msg_id: str, collector: OutputCollector, progress: _Progress, deadline: float) -> bool:
        """Feed this run's iopub messages to `collector` until the reply and the idle status came (True) or
        the deadline passed (False). Calling it again with the same `progress` continues where it stopped."""
        while not (progress.replied and progress.idle):
            message = self._receive(deadline)
            if message is None:
                return False
            if self._parent_id(message) != msg_id:
                continue
            channel = message.get("channel")
            kind = (message.get("header") or {}).get("msg_type")
            if channel == "shell" and kind == "execute_reply":
                progress.replied = True
                content = message.get("content") or {}
                if content.get("status") == "aborted" and collector.error is None:
                    collector.error = RunError(name="Aborted", value="the kernel aborted the run", traceback="")
            elif channel == "iopub":
                if kind == "status" and (message.get("content") or {}).get("execution_state") == "idle":
                    progress.idle = True
                else:
                    collector.handle(message)
        return True

    def _post_interrupt(self) -> None:
        self._request("POST", self._kernel_path("/interrupt"))

    def _restart(self) -> None:
        self._disconnect()
        self._request("POST", self._kernel_path("/restart"), timeout=START_TIMEOUT_S)
        self._connect()
        self._setup()

    def upload(self, name: str, data: bytes) -> str:
        name = safe_relative_path(name)
        cap = self.limits.max_file_mb * 1024 * 1024
        if len(data) > cap:
            raise SandboxFileError(f"{name} is {len(data)} bytes, over the {cap}-byte limit")
        temp = f".rixin-upload-{uuid.uuid4().hex[:12]}"
        with self._session():
            offsets = range(0, max(len(data), 1), UPLOAD_CHUNK)
            for index, offset in enumerate(offsets):
                chunk = base64.b64encode(data[offset : offset + UPLOAD_CHUNK]).decode("ascii")
                self._helper("put", self.work_dir, name, temp, chunk, index == 0, index == len(offsets) - 1)
        return name

    def download(self, name: str) -> bytes:
        name = safe_relative_path(name)
        cap = self.limits.max_file_mb * 1024 * 1024
        parts: list[bytes] = []
        with self._session():
            offset, size = 0, None
            while size is None or offset < size:
                answer = self._helper("get", self.work_dir, name, offset, DOWNLOAD_CHUNK, cap)
                size = int(answer["size"])
                chunk = base64.b64decode(answer["data"])
                if not chunk:
                    break  # the file shrank while being read
                parts.append(chunk)
                offset += len(chunk)
        return b"".join(parts)

    def list_files(self) -> list[str]:
        with self._session():
            return sorted(self._snapshot())

    def interrupt(self) -> None:
        # No lock: this is how another thread stops the run that holds it.
        self._check_open()
        self._post_interrupt()

    def close(self) -> None:
        if self._closed:
            return
        # Removing the work folder needs the kernel; skip it if a run is still holding the session.
        got = self._lock.acquire(timeout=0.0)
        try:
            self._shutdown(remove_work=got)
        finally:
            if got:
                self._lock.release()

    def _shutdown(self, *, remove_work: bool) -> None:
        self._closed = True
        if remove_work and self.work_dir and self._ws is not None:
            with contextlib.suppress(SandboxError):
                self._helper("remove", self.work_dir, timeout=10.0)
        self._disconnect()
        if self.kernel_id:
            # Already gone, or the gateway is down: nothing is left to free on our side.
            with contextlib.suppress(SandboxError):
                self._request("DELETE", self._kernel_path())
        self._http.close()
        if self._own_image_dir:
            shutil.rmtree(self.image_dir, ignore_errors=True)
