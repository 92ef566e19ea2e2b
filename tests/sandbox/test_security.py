"""Attacks on the local code-interpreter sandbox: each one must be contained, leave the host untouched, and leave
a working session behind (the same one when it survived, otherwise a fresh one).

These tests never skip: when bubblewrap, the `rixin-sandbox` user or the sandbox runtime is missing, starting
a session raises and every test fails. A test that fails here is a containment gap, not a flaky test.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rixin.sandbox import LocalSandbox
from rixin.sandbox.base import Limits, RunResult, Sandbox, SandboxError, SandboxFileError

pytestmark = pytest.mark.timeout(180)

SANDBOX_USER = "rixin-sandbox"
WORK = "/mnt/data"
MB = 1024 * 1024
LIMITS = Limits(
    timeout_s=10.0,
    memory_mb=512,
    max_processes=48,
    max_file_mb=16,
    disk_mb=64,
    max_output_chars=20_000,
)
MARK = "@@RIXIN-PROBE@@"
HOST_PROJECT_FILE = Path(__file__).resolve().parents[2] / "pyproject.toml"

# Prepended to every probe: `_try` turns an attempt into ["ok", value] or ["err", "ExcName: message"].
_PRELUDE = """\
import json as _json, os, sys
def _try(f):
    try:
        r = f()
    except BaseException as e:
        return ["err", type(e).__name__ + ": " + str(e)[:300]]
    if isinstance(r, bytes):
        r = r[:300].decode("utf-8", "replace")
    elif not isinstance(r, (int, float, str, bool, list, type(None))):
        r = repr(r)[:300]
    return ["ok", r]
out = {}
"""


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def open_session(limits: Limits = LIMITS) -> Sandbox:
    """A new LocalSandbox session; raises (and so fails the test) when the sandbox cannot start here."""
    return LocalSandbox(limits=limits)


def probe(sb: Sandbox, body: str, timeout_s: float | None = None) -> dict[str, Any]:
    """Run `body` (which fills the dict `out`) in the session and return `out` as parsed JSON."""
    code = _PRELUDE + textwrap.dedent(body) + f"\nprint({MARK!r} + _json.dumps(out, default=repr))\n"
    result = sb.run(code, timeout_s=timeout_s)
    assert not result.timed_out, f"probe timed out: {result.to_dict()}"
    assert result.error is None, f"probe raised: {result.error.to_dict()}"
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARK)]
    assert lines, f"probe printed no result: {result.to_dict()}"
    parsed: dict[str, Any] = json.loads(lines[-1][len(MARK) :])
    return parsed


def failed(attempt: list[Any]) -> bool:
    return bool(attempt) and attempt[0] == "err"


def assert_usable(sb: Sandbox) -> None:
    """The session runs ordinary code: output, the value of the last line, and a file in the work folder."""
    token = uuid.uuid4().hex[:8]
    result = sb.run(f"print('alive-{token}')\nopen('{WORK}/alive.txt', 'w').write('{token}')\n40 + 2")
    assert result.ok, f"session not usable afterwards: {result.to_dict()}"
    assert f"alive-{token}" in result.stdout
    assert result.results == ["42"], result.to_dict()
    assert sb.download("alive.txt") == token.encode()


def assert_new_session_works() -> None:
    with open_session() as sb:
        assert_usable(sb)


def sandbox_uid() -> int:
    return pwd.getpwnam(SANDBOX_USER).pw_uid


def pids_of_uid(uid: int) -> set[int]:
    """Host pids whose real uid is `uid`."""
    pids: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                pids.add(int(entry))
    return pids


def session_pids(sb: Sandbox) -> dict[int, dict[str, str]]:
    """Host processes of a session, found by the session id in their cgroup paths: {pid: /proc/pid/status}."""
    found: dict[int, dict[str, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if sb.session_id not in Path(f"/proc/{entry}/cgroup").read_text():
                continue
            lines = Path(f"/proc/{entry}/status").read_text().splitlines()
        except OSError:
            continue
        found[int(entry)] = {k: v.strip() for k, v in (line.split(":", 1) for line in lines if ":" in line)}
    return found


def _mem_available_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no MemAvailable")


def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


def host_responsive() -> float:
    """Seconds the host needs to start and reap a trivial process."""
    start = time.monotonic()
    subprocess.run(["true"], check=True, timeout=30)
    return time.monotonic() - start


class _Wrap:
    """Lets `_host_paths` look at a container's item as if it were an attribute."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _host_paths(obj: Any, prefix: str, depth: int, seen: set[int], found: dict[str, Path]) -> None:
    """Absolute, existing host paths held in the attributes of the session (and of its rixin / jupyter_client
    helpers, traitlets included), to aim the attacks at the real host folders of a session."""
    if id(obj) in seen or depth > 4:
        return
    seen.add(id(obj))
    values: dict[str, Any] = {}
    values.update(getattr(obj, "__dict__", {}) or {})
    values.update(getattr(obj, "_trait_values", {}) or {})
    for key, value in values.items():
        if isinstance(value, (str, Path)):
            text = str(value)
            if text.startswith("/") and "\n" not in text and len(text) < 1024:
                with contextlib.suppress(OSError, ValueError):
                    if Path(text).exists():
                        found[prefix + key] = Path(text)
        elif isinstance(value, dict):
            for index, item in list(value.items())[:8]:
                _host_paths(_Wrap(item), f"{prefix}{key}[{index}].", depth + 1, seen, found)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value[:8]):
                _host_paths(_Wrap(item), f"{prefix}{key}[{index}].", depth + 1, seen, found)
        elif isinstance(value, _Wrap) or type(value).__module__.split(".")[0] in ("rixin", "jupyter_client"):
            _host_paths(value, prefix + key + ".", depth + 1, seen, found)


def host_paths(sb: Sandbox) -> dict[str, Path]:
    found: dict[str, Path] = {}
    _host_paths(sb, "", 0, set(), found)
    return found


def host_work_dir(sb: Sandbox) -> Path | None:
    """The host folder behind the session's /mnt/data, found by uploading a marker and looking for it."""
    marker = f"where-{uuid.uuid4().hex}.txt"
    sb.upload(marker, b"x")
    try:
        for path in host_paths(sb).values():
            if path.is_dir() and (path / marker).is_file():
                return path
        return None
    finally:
        sb.run(f"import os; os.remove('{WORK}/{marker}')")


def session_keys(sb: Sandbox) -> list[bytes]:
    """HMAC keys of the session's Jupyter connection (if the implementation uses jupyter_client)."""
    keys: list[bytes] = []
    seen: set[int] = set()

    def visit(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        values: dict[str, Any] = {}
        values.update(getattr(obj, "__dict__", {}) or {})
        values.update(getattr(obj, "_trait_values", {}) or {})
        for key, value in values.items():
            if key == "key" and isinstance(value, bytes) and len(value) >= 16:
                keys.append(value)
            elif type(value).__module__.split(".")[0] in ("rixin", "jupyter_client"):
                visit(value, depth + 1)

    visit(sb, 0)
    return keys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def host_ip() -> str | None:
    """The host's own non-loopback address (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))
            ip: str = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Holder:
    session: Sandbox | None = None


_shared = _Holder()


@pytest.fixture(scope="module", autouse=True)
def _close_shared() -> Iterator[None]:
    yield
    if _shared.session is not None:
        _shared.session.close()
        _shared.session = None


@pytest.fixture
def shared() -> Sandbox:
    """One session reused by the non-destructive attacks; replaced if an earlier test broke it (that test has
    already failed on its own `assert_usable`)."""
    if _shared.session is not None:
        try:
            if _shared.session.run("1 + 1").results == ["2"]:
                return _shared.session
        except SandboxError:
            pass
        with contextlib.suppress(Exception):
            _shared.session.close()
    _shared.session = open_session()
    return _shared.session


@pytest.fixture
def fresh() -> Iterator[Callable[..., Sandbox]]:
    """Opens sessions for destructive attacks and closes them all at teardown."""
    opened: list[Sandbox] = []

    def factory(limits: Limits = LIMITS) -> Sandbox:
        sb = open_session(limits)
        opened.append(sb)
        return sb

    yield factory
    for sb in opened:
        with contextlib.suppress(Exception):
            sb.close()


@pytest.fixture(scope="module")
def inside_paths() -> dict[str, str]:
    """Where the sandbox's own interpreter lives (seen from inside), to attack its venv and stdlib."""
    with open_session() as sb:
        return probe(
            sb,
            """
            import os as _os
            out["prefix"] = sys.prefix
            out["base_prefix"] = sys.base_prefix
            out["executable"] = os.path.realpath(sys.executable)
            out["stdlib_os"] = os.path.realpath(_os.__file__)
            import site
            out["site_packages"] = site.getsitepackages()[0]
            """,
        )


# ---------------------------------------------------------------------------------------------------------------
# Reading host files
# ---------------------------------------------------------------------------------------------------------------

SECRET_FILES = ["/etc/shadow", "/etc/gshadow", "/etc/ssh/ssh_host_ed25519_key", "/etc/sudoers"]


@pytest.mark.parametrize("path", SECRET_FILES)
def test_host_secret_files_are_not_readable(shared: Sandbox, path: str) -> None:
    out = probe(shared, f"out['read'] = _try(lambda: open({path!r}, 'rb').read())")
    assert failed(out["read"]), f"{path} was readable inside the sandbox: {out}"
    assert_usable(shared)


def test_root_home_is_not_visible(shared: Sandbox) -> None:
    host_entries = set(os.listdir("/root"))
    out = probe(
        shared,
        """
        out["list"] = _try(lambda: os.listdir("/root"))
        out["bashrc"] = _try(lambda: open("/root/.bashrc").read())
        """,
    )
    if not failed(out["list"]):
        leaked = set(out["list"][1]) & host_entries
        assert not leaked, f"host /root entries visible inside: {sorted(leaked)}"
    assert failed(out["bashrc"]) or not Path("/root/.bashrc").exists(), out
    assert_usable(shared)


@pytest.mark.parametrize(
    "path",
    [
        str(HOST_PROJECT_FILE),
        str(HOST_PROJECT_FILE.parent),
        str(HOST_PROJECT_FILE.parent / ".venv" / "bin" / "python"),
        str(HOST_PROJECT_FILE.parent / "src" / "rixin" / "sandbox" / "base.py"),
        "/work/shared",
        f"/proc/1/root{HOST_PROJECT_FILE}",
        f"/proc/self/root{HOST_PROJECT_FILE}",
    ],
)
def test_project_files_are_invisible(shared: Sandbox, path: str) -> None:
    assert Path(path.removeprefix("/proc/1/root").removeprefix("/proc/self/root")).exists()
    out = probe(
        shared,
        f"""
        out["exists"] = os.path.exists({path!r})
        out["read"] = _try(lambda: open({path!r}, 'rb').read(100))
        """,
    )
    assert out["exists"] is False, f"{path} is visible inside the sandbox: {out}"
    assert failed(out["read"])
    assert_usable(shared)


def test_no_host_block_devices_or_kernel_memory(shared: Sandbox) -> None:
    out = probe(
        shared,
        """
        out["dev"] = sorted(os.listdir("/dev"))
        for name in ("/dev/vda", "/dev/sda", "/dev/mem", "/dev/kmem", "/dev/port", "/proc/kcore"):
            out[name] = _try(lambda: open(name, "rb").read(16))
        out["mknod"] = _try(lambda: os.mknod("/mnt/data/blk", 0o600 | 0o060000, os.makedev(254, 0)))
        """,
    )
    for name in ("/dev/vda", "/dev/sda", "/dev/mem", "/dev/kmem", "/dev/port", "/proc/kcore", "mknod"):
        assert failed(out[name]), f"{name}: {out[name]}"
    host_blocks = {e for e in os.listdir("/dev") if e.startswith(("vd", "sd", "nvme", "loop", "dm-"))}
    assert not host_blocks & set(out["dev"]), out["dev"]
    assert_usable(shared)


# ---------------------------------------------------------------------------------------------------------------
# Writing outside the work folder
# ---------------------------------------------------------------------------------------------------------------

NEW_FILE_TARGETS = ["/etc", "/usr", "/usr/lib", "/", "/opt", "/home", "/var", "/bin", "{prefix}", "{site_packages}"]


@pytest.mark.parametrize("folder", NEW_FILE_TARGETS)
def test_cannot_create_files_outside_work_folder(shared: Sandbox, inside_paths: dict[str, str], folder: str) -> None:
    folder = folder.format(**inside_paths)
    target = os.path.join(folder, f"rixin-probe-{uuid.uuid4().hex[:8]}")
    out = probe(
        shared,
        f"""
        out["create"] = _try(lambda: open({target!r}, "xb").write(b"pwned"))
        out["mkdir"] = _try(lambda: os.mkdir({target!r} + ".d"))
        out["exists"] = os.path.exists({target!r})
        """,
    )
    try:
        assert failed(out["create"]), f"created {target} inside the sandbox: {out}"
        assert failed(out["mkdir"]), f"created folder {target}.d inside the sandbox: {out}"
        assert not out["exists"]
        assert not Path(target).exists(), f"{target} appeared on the host"
        assert not Path(target + ".d").exists(), f"{target}.d appeared on the host"
    finally:
        with contextlib.suppress(OSError):
            Path(target).unlink()
        with contextlib.suppress(OSError):
            Path(target + ".d").rmdir()
    assert_usable(shared)


@pytest.mark.parametrize("which", ["executable", "stdlib_os", "/etc/passwd", "/etc/hosts", "/usr/bin/env"])
def test_cannot_modify_runtime_files(shared: Sandbox, inside_paths: dict[str, str], which: str) -> None:
    path = inside_paths.get(which, which)
    host_path = Path(path)
    before = sha256(host_path) if host_path.is_file() else None
    out = probe(
        shared,
        f"""
        out["append"] = _try(lambda: open({path!r}, "ab").write(b"\\n# pwned\\n"))
        out["chmod"] = _try(lambda: os.chmod({path!r}, 0o777))
        out["rename"] = _try(lambda: os.rename({path!r}, {path!r} + ".bak"))
        out["unlink"] = _try(lambda: os.unlink({path!r}))
        """,
    )
    for action in ("append", "chmod", "rename", "unlink"):
        assert failed(out[action]), f"{action} of {path} succeeded inside the sandbox: {out}"
    if before is not None:
        assert sha256(host_path) == before, f"host file {path} changed"
    assert_usable(shared)


def test_cannot_write_kernel_settings(shared: Sandbox) -> None:
    hostname = Path("/proc/sys/kernel/hostname").read_text().strip()
    out = probe(
        shared,
        f"""
        out["hostname"] = _try(lambda: open("/proc/sys/kernel/hostname", "w").write({hostname!r}))
        out["sysrq"] = _try(lambda: open("/proc/sysrq-trigger", "w").write("h"))
        out["core_pattern"] = _try(lambda: open("/proc/sys/kernel/core_pattern", "w").write("core"))
        out["sethostname"] = _try(lambda: __import__("socket").sethostname("pwned"))
        """,
    )
    for action in ("hostname", "sysrq", "core_pattern", "sethostname"):
        assert failed(out[action]), f"{action}: {out}"
    assert Path("/proc/sys/kernel/hostname").read_text().strip() == hostname
    assert_usable(shared)


def test_tmp_is_private_to_the_session(shared: Sandbox, fresh: Callable[..., Sandbox]) -> None:
    token = uuid.uuid4().hex
    host_marker = Path(f"/tmp/rixin-host-{token}")
    host_marker.write_text("host")
    try:
        out = probe(
            shared,
            f"""
            out["write"] = _try(lambda: open("/tmp/rixin-sbx-{token}", "w").write("inside"))
            out["sees_host"] = os.path.exists({str(host_marker)!r})
            out["tmp"] = os.listdir("/tmp")
            """,
        )
        assert out["write"][0] == "ok", f"/tmp should be a writable tmpfs: {out}"
        assert not Path(f"/tmp/rixin-sbx-{token}").exists(), "the sandbox's /tmp is the host's /tmp"
        assert out["sees_host"] is False, "the host's /tmp is visible inside the sandbox"
        assert host_marker.name not in out["tmp"]
        other = fresh()
        seen = probe(other, f"out['exists'] = os.path.exists('/tmp/rixin-sbx-{token}')")
        assert seen["exists"] is False, "one session's /tmp is visible to another"
        assert_usable(other)
    finally:
        host_marker.unlink()
    assert_usable(shared)


@pytest.mark.parametrize("folder", ["/tmp", "/dev/shm", "/"])
def test_ram_backed_folders_cannot_exhaust_host_memory(fresh: Callable[..., Sandbox], folder: str) -> None:
    """/tmp, /dev/shm and bubblewrap's root are RAM (tmpfs): filling them (in files under the per-file limit) must
    stop at a bound (tmpfs size or the memory cgroup), not at the host's RAM."""
    sb = fresh()
    cap_mb = 3 * LIMITS.memory_mb
    available = _mem_available_mb()
    result = sb.run(
        f"""
import os
written, names = 0, []
chunk = b"x" * (8 * 1024 * 1024)
try:
    while written < {cap_mb} * 1024 * 1024:
        name = os.path.join({folder!r}, f"rixin-fill-{{len(names)}}")
        names.append(name)
        with open(name, "wb") as f:
            f.write(chunk)
        written += len(chunk)
except OSError as e:
    print("stopped", written // 2**20, e.errno)
print("written", written // 2**20, flush=True)
for name in names:
    try:
        os.remove(name)
    except OSError:
        pass
""",
        timeout_s=60,
    )
    stopped_at = [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("written")]
    if stopped_at:  # the process survived: it must have hit a limit well below the attempted amount
        assert stopped_at[0] < min(cap_mb, LIMITS.memory_mb + LIMITS.disk_mb), (
            f"wrote {stopped_at[0]} MB into {folder} without hitting any limit"
        )
    else:  # killed (OOM in the session's cgroup) or restarted: contained
        assert result.timed_out or result.error is not None, result.to_dict()
    assert _mem_available_mb() > available - LIMITS.memory_mb - 1024
    assert_usable(sb)
    assert_new_session_works()


# ---------------------------------------------------------------------------------------------------------------
# Another session's files
# ---------------------------------------------------------------------------------------------------------------


def _hidden(text: str) -> str:
    """`text` as a Python expression that does not contain it literally (the kernel's input history is a file the
    search below would otherwise find)."""
    return f"{text[::-1]!r}[::-1]"


def test_sessions_cannot_see_each_other(fresh: Callable[..., Sandbox]) -> None:
    first, second = fresh(), fresh()
    token = uuid.uuid4().hex
    first.upload(f"secret-{token}.txt", token.encode())
    first.run(f"open('{WORK}/made-{token}.txt', 'w').write({_hidden(token)})")
    assert sorted(first.list_files()) == sorted([f"made-{token}.txt", f"secret-{token}.txt"])
    work_dir = host_work_dir(first)
    keys = [key.decode("latin-1") for key in session_keys(first)]
    assert keys, "could not find the first session's connection key"
    candidates = {str(path) for path in host_paths(first).values()}
    if work_dir is not None:
        candidates |= {str(work_dir), str(work_dir.parent), str(work_dir.parent.parent)}
    targets = sorted(candidates | {c + f"/secret-{token}.txt" for c in candidates})

    out = probe(
        second,
        f"""
        token, session_id = {_hidden(token)}, {_hidden(first.session_id)}
        keys = [k[::-1] for k in {[k[::-1] for k in keys]!r}]
        targets = [t[::-1] for t in {[t[::-1] for t in targets]!r}]
        out["targets"] = {{t[::-1]: _try(lambda t=t: os.listdir(t) if os.path.isdir(t) else open(t, "rb").read())
                          for t in targets}}
        hits = []
        for top in sorted(set(os.listdir("/")) - {{"proc", "sys", "usr", "dev"}}):
            for root, dirs, files in os.walk("/" + top):
                for name in dirs + files:
                    full = os.path.join(root, name)
                    if token in full or session_id in full:
                        hits.append(full)
                    if name not in files or full.startswith(sys.prefix):
                        continue
                    try:
                        if os.path.getsize(full) < 2_000_000:
                            data = open(full, "rb").read().decode("latin-1")
                            if token in data or any(k in data for k in keys):
                                hits.append("content:" + full)
                    except OSError:
                        pass
        for pid in [d for d in os.listdir("/proc") if d.isdigit()]:
            for sub in ("root{WORK}", "cwd", "root/tmp"):
                try:
                    hits += [f"/proc/{{pid}}/{{sub}}/{{n}}" for n in os.listdir(f"/proc/{{pid}}/{{sub}}") if token in n]
                except OSError:
                    pass
            for name in ("cmdline", "environ", "mountinfo"):
                try:
                    if session_id in open(f"/proc/{{pid}}/{{name}}", "rb").read().decode("latin-1"):
                        hits.append(f"/proc/{{pid}}/{{name}}")
                except OSError:
                    pass
        out["hits"] = hits
        """,
        timeout_s=60,
    )
    # The venv is shared on purpose (read-only); anything naming the first session or holding its data is a leak.
    readable = {
        target: result
        for target, result in out["targets"].items()
        if result[0] == "ok" and any(secret in target + json.dumps(result) for secret in (token, first.session_id))
    }
    assert not readable, f"host folders of the first session are reachable from the second: {readable}"
    assert not out["hits"], f"the second session sees the first one: {out['hits']}"
    assert all(token not in name for name in second.list_files())
    with pytest.raises(SandboxFileError):
        second.download(f"secret-{token}.txt")
    assert first.download(f"secret-{token}.txt") == token.encode()  # the first one is unharmed
    assert_usable(first)
    assert_usable(second)


def test_session_folders_not_reachable_by_other_sessions_on_host(fresh: Callable[..., Sandbox]) -> None:
    """Host side: a session's folders are not world-readable, so only the sandbox machinery reaches them."""
    sb = fresh()
    work_dir = host_work_dir(sb)
    assert work_dir is not None, f"could not find the host work folder among {host_paths(sb)}"
    for folder in {work_dir, work_dir.parent}:
        mode = folder.stat().st_mode
        assert not mode & 0o006, f"{folder} is readable or writable by every user: {oct(mode)}"
    assert_usable(sb)


# ---------------------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------------------


class _TcpListener:
    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            with contextlib.suppress(OSError):
                conn.sendall(b"HOST-SECRET\n")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.mark.parametrize("where", ["loopback", "host_ip"])
def test_tcp_to_host_listener_is_blocked(shared: Sandbox, where: str) -> None:
    address = "127.0.0.1" if where == "loopback" else host_ip()
    assert address, "the host has no non-loopback address"
    listener = _TcpListener("0.0.0.0")
    try:
        assert socket.create_connection((address, listener.port), timeout=5).recv(16) == b"HOST-SECRET\n"
        accepted_before = listener.accepted
        out = probe(
            shared,
            f"""
            import socket
            def attempt():
                with socket.create_connection(({address!r}, {listener.port}), timeout=3) as s:
                    return s.recv(64)
            out["connect"] = _try(attempt)
            """,
        )
        assert failed(out["connect"]), f"reached the host listener: {out}"
        time.sleep(0.5)
        assert listener.accepted == accepted_before, "the host listener accepted a connection from the sandbox"
    finally:
        listener.close()
    assert_usable(shared)


@pytest.mark.parametrize("target", [("1.1.1.1", 53), ("8.8.8.8", 443), ("192.0.2.1", 80)])
def test_tcp_to_outside_is_blocked(shared: Sandbox, target: tuple[str, int]) -> None:
    out = probe(
        shared,
        f"""
        import socket
        out["connect"] = _try(lambda: socket.create_connection({target!r}, timeout=3).close())
        """,
    )
    assert failed(out["connect"]), f"connected to {target}: {out}"
    assert_usable(shared)


@pytest.mark.parametrize("where", ["loopback", "host_ip"])
def test_udp_to_host_never_arrives(shared: Sandbox, where: str) -> None:
    address = "127.0.0.1" if where == "loopback" else host_ip()
    assert address
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("0.0.0.0", 0))
    receiver.settimeout(1.5)
    port = receiver.getsockname()[1]
    try:
        probe(
            shared,
            f"""
            import socket
            def send():
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for _ in range(20):
                    s.sendto(b"LEAK", ({address!r}, {port}))
                s.close()
            out["send"] = _try(send)
            """,
        )
        with pytest.raises(TimeoutError):
            data, peer = receiver.recvfrom(64)
            pytest.fail(f"the host received {data!r} from {peer}")
    finally:
        receiver.close()
    assert_usable(shared)


def test_dns_resolution_fails(shared: Sandbox) -> None:
    out = probe(
        shared,
        """
        import socket
        for name in ("example.com", "pypi.org", "metadata.google.internal"):
            out[name] = _try(lambda name=name: socket.getaddrinfo(name, 443))
        out["interfaces"] = _try(lambda: [n for _, n in socket.if_nameindex()])
        """,
    )
    for name in ("example.com", "pypi.org", "metadata.google.internal"):
        assert failed(out[name]), f"{name} resolved inside the sandbox: {out[name]}"
    if out["interfaces"][0] == "ok":
        assert set(out["interfaces"][1]) <= {"lo"}, f"network interfaces inside: {out['interfaces']}"
    assert_usable(shared)


def test_listening_inside_is_unreachable_from_host(shared: Sandbox) -> None:
    port = _free_port()
    out = probe(
        shared,
        f"""
        import socket
        _srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        out["bind"] = _try(lambda: _srv.bind(("0.0.0.0", {port})))
        out["listen"] = _try(lambda: _srv.listen(4))
        """,
    )
    try:
        for address in filter(None, ["127.0.0.1", host_ip()]):
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
                pytest.fail(f"the host connected to a socket listening inside the sandbox ({out})")
    finally:
        shared.run("_srv.close()")
    assert_usable(shared)


@pytest.mark.parametrize("kind", ["abstract", "path"])
def test_host_unix_sockets_unreachable(shared: Sandbox, tmp_path: Path, kind: str) -> None:
    name = f"\0rixin-probe-{uuid.uuid4().hex}" if kind == "abstract" else str(tmp_path / "host.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(name)
    server.listen(4)
    server.settimeout(1.0)
    try:
        out = probe(
            shared,
            f"""
            import socket
            def attempt():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(3)
                s.connect({name!r})
                s.sendall(b"LEAK")
                s.close()
            out["connect"] = _try(attempt)
            """,
        )
        assert failed(out["connect"]), f"connected to a host unix socket: {out}"
        with pytest.raises(TimeoutError):
            server.accept()
            pytest.fail("the host unix socket accepted a connection from the sandbox")
    finally:
        server.close()
    assert_usable(shared)


def test_raw_and_packet_sockets_refused(shared: Sandbox) -> None:
    out = probe(
        shared,
        """
        import socket
        out["raw"] = _try(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close())
        out["packet"] = _try(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close())
        out["netlink_route_add"] = _try(lambda: __import__("subprocess").run(
            ["ip", "link", "add", "pwn0", "type", "dummy"], capture_output=True, check=True))
        """,
    )
    for kind in ("raw", "packet", "netlink_route_add"):
        assert failed(out[kind]), f"{kind}: {out[kind]}"
    assert_usable(shared)


# ---------------------------------------------------------------------------------------------------------------
# Processes: fork bombs, visibility, signals
# ---------------------------------------------------------------------------------------------------------------


def test_fork_bomb_is_capped(shared: Sandbox, fresh: Callable[..., Sandbox]) -> None:
    uid = sandbox_uid()
    bomb = fresh()
    baseline = len(pids_of_uid(uid))
    peak = [0]
    latencies: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], len(pids_of_uid(uid)))
            latencies.append(host_responsive())
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    result: RunResult | SandboxError
    try:
        result = bomb.run(
            """
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
""",
            timeout_s=6,
        )
    except SandboxError as exc:  # checked last, after what matters for the host and the other sessions
        result = exc
    finally:
        stop.set()
        watcher.join(30)
    grown = peak[0] - baseline
    assert grown <= LIMITS.max_processes + 4, f"the sandbox user reached {grown} extra processes"
    assert latencies and max(latencies) < 5.0, f"host process start took up to {max(latencies):.1f} s"
    # Other sessions of the same user keep working, and a new one starts, while the bomb session is still open.
    assert_usable(shared)
    assert_new_session_works()
    # The bomb's own session: timed out, and usable again (interrupted, or killed and restarted).
    assert not isinstance(result, SandboxError), f"run() raised instead of restarting the session: {result}"
    assert result.timed_out, result.to_dict()
    assert_usable(bomb)
    bomb.close()
    assert wait_until(lambda: len(pids_of_uid(uid)) <= baseline, 15), "processes of the bomb outlived its session"


def test_processes_of_a_closed_session_are_gone(fresh: Callable[..., Sandbox]) -> None:
    uid = sandbox_uid()
    before = pids_of_uid(uid)
    sb = fresh()
    sb.run(
        """
import subprocess, os
subprocess.Popen(["sh", "-c", "nohup sleep 300 >/dev/null 2>&1 &"], start_new_session=True)
subprocess.Popen(["setsid", "sleep", "301"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(302)
    os._exit(0)
"""
    )
    time.sleep(0.5)
    mine = pids_of_uid(uid) - before
    assert mine, "no host processes belong to the new session"
    sb.close()
    assert wait_until(lambda: not (pids_of_uid(uid) & mine), 15), "daemonised processes outlived the session"
    assert_new_session_works()


def test_host_processes_are_invisible(shared: Sandbox) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        out = probe(
            shared,
            """
            pids = [d for d in os.listdir("/proc") if d.isdigit()]
            out["pids"] = pids
            cmdlines = {}
            for pid in pids:
                try:
                    cmdlines[pid] = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
                except OSError:
                    pass
            out["cmdlines"] = cmdlines
            out["pid1"] = cmdlines.get("1", "")
            """,
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert len(out["pids"]) <= 12, f"{len(out['pids'])} processes visible inside: {out['cmdlines']}"
    everything = " | ".join(out["cmdlines"].values())
    for host_marker in ("pytest", "sleep 60", "process_api", "rixin bench", "prlimit"):
        assert host_marker not in everything, f"host process {host_marker!r} visible inside: {out['cmdlines']}"
    assert_usable(shared)


def _start_as_sandbox_user(argv: list[str]) -> subprocess.Popen[bytes]:
    user = pwd.getpwnam(SANDBOX_USER)

    def demote() -> None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return subprocess.Popen(argv, preexec_fn=demote)


def test_cannot_signal_host_processes(shared: Sandbox, fresh: Callable[..., Sandbox]) -> None:
    sb = fresh()
    root_victim = subprocess.Popen(["sleep", "60"])
    same_uid_victim = _start_as_sandbox_user(["sleep", "61"])
    try:
        probe(
            sb,
            f"""
            import signal
            for pid in ({root_victim.pid}, {same_uid_victim.pid}, {os.getpid()}):
                out[str(pid)] = _try(lambda pid=pid: os.kill(pid, signal.SIGKILL))
            """,
        )
        # kill(-1) hits every process the sandbox user may signal: it must stay inside the sandbox's pid namespace.
        with contextlib.suppress(SandboxError):
            sb.run("import subprocess; subprocess.run(['kill', '-9', '-1'])", timeout_s=10)
        time.sleep(0.5)
        assert root_victim.poll() is None, "a root-owned host process was killed from inside the sandbox"
        assert same_uid_victim.poll() is None, "a host process of the sandbox user was killed from inside"
    finally:
        for victim in (root_victim, same_uid_victim):
            victim.kill()
            victim.wait()
    assert_usable(sb)  # restarted if kill(-1) took its kernel down
    assert_usable(shared)  # another session of the same user survived kill(-1)
    assert_new_session_works()


# ---------------------------------------------------------------------------------------------------------------
# Memory, CPU, timeouts
# ---------------------------------------------------------------------------------------------------------------


def test_single_huge_allocation_fails(shared: Sandbox) -> None:
    available = _mem_available_mb()
    result = shared.run("x = b'x' * (10 * 1024 ** 3)")
    assert result.error is not None, f"allocated 10 GB: {result.to_dict()}"
    assert result.error.name in ("MemoryError", "SessionRestarted"), result.to_dict()
    assert _mem_available_mb() > available - LIMITS.memory_mb - 1024
    assert_usable(shared)


def test_gradual_memory_bomb_is_bounded(fresh: Callable[..., Sandbox]) -> None:
    sb = fresh()
    available = _mem_available_mb()
    result = sb.run(
        """
chunks = []
while len(chunks) < 10 * 1024 // 64:
    chunks.append(b"x" * (64 * 1024 * 1024))
    print("held", len(chunks) * 64, flush=True)
""",
        timeout_s=60,
    )
    held = [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("held")]
    assert result.error is not None or result.timed_out, f"allocated 10 GB: {held[-1:]}"
    assert not held or held[-1] <= LIMITS.memory_mb, f"held {held[-1]} MB with memory_mb={LIMITS.memory_mb}"
    assert _mem_available_mb() > available - LIMITS.memory_mb - 1024
    sb.run("chunks = None")
    assert_usable(sb)
    assert_new_session_works()


def test_memory_split_over_processes_is_bounded(fresh: Callable[..., Sandbox]) -> None:
    """RLIMIT_AS is per process: the session as a whole must still be capped (memory cgroup). Each child takes
    what RLIMIT_AS still allows it; together they ask for about three times the session's memory."""
    sb = fresh()
    result = sb.run(
        f"""
import os, time
vm_kb = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0])
per_child = max(32, ({LIMITS.memory_mb} * 1024 - vm_kb) // 1024 - 96)
children = min(24, 3 * {LIMITS.memory_mb} // per_child + 1)
r, w = os.pipe()
pids = []
for _ in range(children):
    pid = os.fork()
    if pid == 0:
        try:
            block = b"x" * (per_child * 1024 * 1024)
            os.write(w, b"%d," % os.getpid())
            time.sleep(8)
        finally:
            os._exit(0)
    pids.append(pid)
time.sleep(4)  # every child has allocated (or died) by now; those still alive hold their block together
os.close(w)
allocated = [int(p) for p in os.read(r, 65536).decode().split(",") if p]
alive = [p for p in allocated if os.waitpid(p, os.WNOHANG) == (0, 0)]
print("held", per_child, len(allocated), len(alive))
for pid in pids:
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
""",
        timeout_s=40,
    )
    held = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("held")]
    assert held, result.to_dict()
    per_child, allocated, alive = map(int, held[0])
    assert allocated >= 1, f"no child could allocate {per_child} MB: the test measured nothing ({result.stdout})"
    together = alive * per_child
    assert together <= LIMITS.memory_mb, (
        f"{alive} processes held {per_child} MB each ({together} MB) at once with memory_mb={LIMITS.memory_mb}"
    )
    assert_usable(sb)
    assert_new_session_works()


def test_cannot_raise_own_limits(shared: Sandbox) -> None:
    out = probe(
        shared,
        """
        import resource
        inf = resource.RLIM_INFINITY
        for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE"):
            soft, hard = resource.getrlimit(getattr(resource, name))
            out[name] = [soft, hard, _try(lambda name=name: resource.setrlimit(getattr(resource, name), (inf, inf)))]
        """,
    )
    for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE"):
        _soft, hard, attempt = out[name]
        assert hard != -1, f"{name} has no hard limit inside the sandbox"
        assert failed(attempt), f"{name} could be raised to unlimited: {out[name]}"
    assert_usable(shared)


def test_cpu_loop_times_out_and_state_survives(shared: Sandbox) -> None:
    shared.run("kept_state = 'still here'")
    start = time.monotonic()
    result = shared.run("while True:\n    pass", timeout_s=3)
    elapsed = time.monotonic() - start
    assert result.timed_out, result.to_dict()
    assert not result.ok
    assert elapsed < 3 + 10, f"the timeout took {elapsed:.1f} s"
    after = shared.run("kept_state")
    assert after.results == ["'still here'"], after.to_dict()
    assert_usable(shared)


UNINTERRUPTIBLE = {
    "swallows_keyboardinterrupt": "while True:\n    try:\n        while True:\n            pass\n"
    "    except BaseException:\n        pass",
    "ignores_sigint": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
    "stuck_in_c_code": "sum(range(10 ** 13))",
    "regex_backtracking": "import re\nre.match(r'(a*)*b', 'a' * 60)",
}


@pytest.mark.parametrize("name", sorted(UNINTERRUPTIBLE))
def test_uninterruptible_code_is_killed_and_restarted(fresh: Callable[..., Sandbox], name: str) -> None:
    sb = fresh()
    uid = sandbox_uid()
    sb.run("kept_state = 1")
    start = time.monotonic()
    result = sb.run(UNINTERRUPTIBLE[name], timeout_s=3)
    elapsed = time.monotonic() - start
    assert result.timed_out, result.to_dict()
    assert result.error is not None and result.error.name == "SessionRestarted", result.to_dict()
    assert elapsed < 3 + 20, f"the kill and restart took {elapsed:.1f} s"
    # The old kernel is really gone: no process of the sandbox user keeps burning CPU.
    assert wait_until(lambda: _busy_sandbox_cpu(uid) < 0.3, 10), "the timed-out code is still running"
    assert sb.run("'kept_state' in dir()").results == ["False"]
    assert_usable(sb)


def _busy_sandbox_cpu(uid: int, window_s: float = 0.5) -> float:
    """CPU seconds per second that processes of `uid` used over a short window."""

    def total() -> float:
        ticks = 0
        for pid in pids_of_uid(uid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    first = total()
    time.sleep(window_s)
    return (total() - first) / window_s


# ---------------------------------------------------------------------------------------------------------------
# Disk
# ---------------------------------------------------------------------------------------------------------------


def test_disk_fill_is_capped(fresh: Callable[..., Sandbox]) -> None:
    sb = fresh()
    free_before = shutil.disk_usage("/").free
    result = sb.run(
        f"""
import os
written, i = 0, 0
try:
    while written < 4 * {LIMITS.disk_mb} * 1024 * 1024:
        with open(f"{WORK}/fill{{i}}.bin", "wb") as f:
            for _ in range(8):
                f.write(b"x" * (1024 * 1024)); written += 1024 * 1024
        i += 1
except OSError as e:
    print("errno", e.errno)
print("written", written // 2**20)
""",
        timeout_s=60,
    )
    written = [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("written")]
    assert written, result.to_dict()
    assert written[0] <= LIMITS.disk_mb, f"wrote {written[0]} MB into a {LIMITS.disk_mb} MB work folder"
    assert "errno" in result.stdout
    lost_mb = (free_before - shutil.disk_usage("/").free) / MB
    assert lost_mb < LIMITS.disk_mb + 256, f"host disk lost {lost_mb:.0f} MB"
    assert_usable_when_full(sb)
    sb.run(f"import glob, os\nfor p in glob.glob('{WORK}/fill*.bin'): os.remove(p)")
    assert_usable(sb)
    assert_new_session_works()


def assert_usable_when_full(sb: Sandbox) -> None:
    result = sb.run("6 * 7")
    assert result.ok and result.results == ["42"], result.to_dict()


SABOTAGE = {
    # The session's disk (work folder, /tmp, home) filled: 16 MB files up to the per-file limit, then small ones.
    "disk_full": (
        f"i = 0\ntry:\n    while True:\n        open(f'{WORK}/fill{{i}}.bin', 'wb').write(b'x' * (8 * 2**20)); i += 1\n"
        "except OSError:\n    pass\ni = 0\ntry:\n    while True:\n"
        "        open(f'/tmp/f{i}', 'wb').write(b'x' * 4096); i += 1\nexcept OSError:\n    pass"
    ),
    # The folder of the kernel's sockets and connection file filled.
    "run_dir_full": (
        "import os\ni = 0\ntry:\n    while True:\n        open(f'/run/kernel/f{i}', 'wb').write(b'x' * 4096); i += 1\n"
        "except OSError:\n    pass"
    ),
    # The names the next kernels' connection files and sockets will get, taken by symlinks to host secrets.
    "planted_symlinks": (
        "import os\nfor i in range(1, 40):\n    for suffix in ('.json', '-1', '-2', '-3', '-4', '-5'):\n"
        "        p = f'/run/kernel/k{i}{suffix}'\n        if not os.path.lexists(p):\n"
        "            os.symlink('/etc/passwd' if suffix == '.json' else '/etc/shadow', p)"
    ),
    # The current connection file and sockets deleted.
    "run_dir_emptied": "import os\nfor n in os.listdir('/run/kernel'):\n    os.remove('/run/kernel/' + n)",
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_restart_survives_sabotage(fresh: Callable[..., Sandbox], case: str) -> None:
    """A restart after a timeout must work whatever the code did to the session's own writable folders, and
    never write through what the code planted there."""
    sb = fresh()
    before = {path: sha256(Path(path)) for path in ("/etc/passwd", "/etc/shadow")}
    sabotage = sb.run(SABOTAGE[case])
    assert sabotage.ok, sabotage.to_dict()
    try:
        result = sb.run(UNINTERRUPTIBLE["swallows_keyboardinterrupt"], timeout_s=3)
    except Exception as exc:  # any exception out of run() is a failure of the sandbox, not of the code
        pytest.fail(f"the session could not restart after {case}: {type(exc).__name__}: {exc}")
    finally:
        assert {path: sha256(Path(path)) for path in before} == before, "a host file changed"
    assert result.timed_out and result.error is not None and result.error.name == "SessionRestarted", result.to_dict()
    assert_usable_when_full(sb)
    sb.run(f"import glob, os\nfor p in glob.glob('{WORK}/fill*.bin') + glob.glob('/tmp/f*'):\n    os.remove(p)")
    assert_usable(sb)


def test_single_file_over_max_file_mb_fails(shared: Sandbox) -> None:
    result = shared.run(
        f"""
import os
path = "{WORK}/huge.bin"
try:
    with open(path, "wb") as f:
        for _ in range({LIMITS.max_file_mb} + 8):
            f.write(b"x" * (1024 * 1024))
except OSError as e:
    print("errno", e.errno)
print("size", os.path.getsize(path) // 2**20)
os.remove(path)
"""
    )
    assert result.error is None, result.to_dict()
    assert "errno 27" in result.stdout, f"no EFBIG: {result.stdout!r}"
    size = [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("size")]
    assert size and size[0] <= LIMITS.max_file_mb
    assert_usable(shared)


def test_sparse_file_cannot_trick_download(shared: Sandbox) -> None:
    result = shared.run(f"import os\nos.truncate(open('{WORK}/sparse.bin', 'wb').fileno(), 10 * 1024 ** 3)")
    try:
        if result.error is None:  # created: the host must still refuse to read 10 GB
            with pytest.raises(SandboxFileError):
                shared.download("sparse.bin")
        else:
            assert "File too large" in result.error.value or result.error.name == "OSError", result.to_dict()
    finally:
        shared.run(f"import os\nif os.path.exists('{WORK}/sparse.bin'): os.remove('{WORK}/sparse.bin')")
    assert_usable(shared)


def test_upload_bigger_than_the_work_folder_is_refused(shared: Sandbox) -> None:
    free_before = shutil.disk_usage("/").free
    with pytest.raises(SandboxFileError):
        shared.upload("too-big.bin", b"\0" * ((LIMITS.disk_mb + 1) * MB))
    assert (free_before - shutil.disk_usage("/").free) / MB < LIMITS.disk_mb + 256
    with contextlib.suppress(SandboxFileError):
        assert len(shared.download("too-big.bin")) <= LIMITS.disk_mb * MB
    shared.run(f"import os\nos.path.exists('{WORK}/too-big.bin') and os.remove('{WORK}/too-big.bin')")
    assert_usable(shared)


def test_kernel_log_on_host_is_bounded(shared: Sandbox) -> None:
    """The kernel's original stderr is a log file on the host disk: writing to it directly (not through the
    captured sys.stderr) must be capped (RLIMIT_FSIZE), never fill the host disk."""
    free_before = shutil.disk_usage("/").free
    out = probe(
        shared,
        f"""
        targets = {{}}
        for fd in os.listdir("/proc/self/fd"):
            link = _try(lambda fd=fd: os.readlink(f"/proc/self/fd/{{fd}}"))
            # An open file whose path does not exist in here was opened on the host for us (the kernel log).
            if link[0] == "ok" and link[1].startswith("/") and not os.path.exists(link[1]):
                targets[fd] = link[1]
        out["targets"] = targets
        for fd in targets:
            def flood(fd=int(fd)):
                for _ in range(4 * {LIMITS.max_file_mb}):
                    os.write(fd, b"L" * (1024 * 1024))
            out[fd] = [targets.get(fd), _try(flood)]
        """,
        timeout_s=60,
    )
    lost_mb = (free_before - shutil.disk_usage("/").free) / MB
    assert lost_mb < 2 * LIMITS.max_file_mb + 256, f"host disk lost {lost_mb:.0f} MB: {out}"
    logs = [p for p in host_paths(shared).values() if p.is_file() and p.suffix == ".log"]
    for log in logs:
        assert log.stat().st_size <= LIMITS.max_file_mb * MB, f"{log} grew to {log.stat().st_size >> 20} MB"
    assert_usable(shared)


# ---------------------------------------------------------------------------------------------------------------
# Privileges, ctypes, subprocesses
# ---------------------------------------------------------------------------------------------------------------


def test_not_root_and_no_capabilities(shared: Sandbox) -> None:
    out = probe(
        shared,
        """
        out["ids"] = [os.getuid(), os.geteuid(), os.getgid(), os.getegid()]
        out["status"] = {k: v.strip() for k, v in (line.split(":", 1) for line in open("/proc/self/status"))
                         if k.startswith(("Cap", "NoNewPrivs", "Seccomp"))}
        out["setuid"] = _try(lambda: os.setuid(0))
        out["setgid"] = _try(lambda: os.setgid(0))
        out["setgroups"] = _try(lambda: os.setgroups([0]))
        out["seteuid"] = _try(lambda: os.seteuid(0))
        """,
    )
    assert 0 not in out["ids"], f"root inside the sandbox: {out['ids']}"
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(out["status"][cap], 16) == 0, f"{cap} = {out['status'][cap]}"
    for attempt in ("setuid", "setgid", "setgroups", "seteuid"):
        assert failed(out[attempt]), f"{attempt}(0) succeeded: {out[attempt]}"
    # Seen from the host, every process of the session runs as the sandbox user with no capabilities.
    members = session_pids(shared)
    assert members, "found no host process of the session (by cgroup or by the session id)"
    uid = sandbox_uid()
    for pid, status in members.items():
        uids = [int(v) for v in status["Uid"].split()]
        assert uids == [uid] * 4, f"host pid {pid} of the session has uids {uids} (sandbox user: {uid})"
        assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0, f"host pid {pid}: {status}"
    assert_usable(shared)


CTYPES_ATTACKS = {
    "setuid_0": "libc.setuid(0)",
    "setresuid_0": "libc.setresuid(0, 0, 0)",
    "mount_tmpfs": "libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)",
    "remount_usr_rw": "libc.mount(b'none', b'/usr', None, 32 | 4096, None)",  # MS_REMOUNT | MS_BIND
    "chroot": "libc.chroot(b'/tmp')",
    "unshare_mount_ns": "libc.unshare(0x00020000)",  # CLONE_NEWNS
    "unshare_user_ns": "libc.unshare(0x10000000)",  # CLONE_NEWUSER
    "unshare_net_ns": "libc.unshare(0x40000000)",  # CLONE_NEWNET
    "user_ns_then_mount": "libc.unshare(0x10000000) or libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)",
    "setns_pid1_mnt": "libc.setns(os.open('/proc/1/ns/mnt', os.O_RDONLY), 0)",
}


@pytest.mark.parametrize("name", sorted(CTYPES_ATTACKS))
def test_ctypes_syscalls_fail(shared: Sandbox, name: str) -> None:
    mnt_was_mount = Path("/mnt").is_mount()
    # In a single-threaded child (the kernel itself is multi-threaded, which alone makes unshare(CLONE_NEWUSER)
    # fail); the child prints the return value and errno of the call.
    child = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"rc = {CTYPES_ATTACKS[name]}\n"
        "print(rc, ctypes.get_errno(), os.getuid(), open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
    )
    out = probe(
        shared,
        f"""
        import subprocess
        proc = subprocess.run([sys.executable, "-c", {child!r}], capture_output=True, text=True, timeout=20)
        out["stdout"], out["stderr"] = proc.stdout, proc.stderr[-500:]
        """,
    )
    fields = out["stdout"].split()
    assert len(fields) == 4, out
    rc, errno_, uid, cap_eff = int(fields[0]), int(fields[1]), int(fields[2]), fields[3]
    assert rc == -1 and errno_ != 0, f"{name} succeeded inside the sandbox (rc={rc}, CapEff={cap_eff})"
    assert uid != 0
    assert Path("/mnt").is_mount() == mnt_was_mount, "the host's /mnt changed"
    assert_usable(shared)


SHELL_ATTACKS = {
    "cat_shadow": ["cat", "/etc/shadow"],
    "id_u": ["id", "-u"],
    "sudo": ["sudo", "-n", "id", "-u"],
    "su": ["su", "-c", "id -u", "root"],
    "setuid_mount": ["mount", "-t", "tmpfs", "none", "/mnt"],
    "ls_project": ["ls", str(HOST_PROJECT_FILE.parent)],
    "touch_etc": ["touch", "/etc/rixin-probe-shell"],
}


@pytest.mark.parametrize("name", sorted(SHELL_ATTACKS))
def test_subprocesses_stay_inside(shared: Sandbox, name: str) -> None:
    argv = SHELL_ATTACKS[name]
    out = probe(
        shared,
        f"""
        import subprocess
        def attempt():
            p = subprocess.run({argv!r}, capture_output=True, text=True, timeout=20)
            return [p.returncode, p.stdout[-500:], p.stderr[-300:]]
        out["run"] = _try(attempt)
        out["system"] = os.system({" ".join(argv)!r} + " >/dev/null 2>&1")
        """,
    )
    if name == "id_u":
        assert out["run"][0] == "ok", out
        assert out["run"][1][1].strip() not in ("", "0"), f"`id -u` inside: {out['run']}"
    else:
        ran = out["run"]
        assert failed(ran) or ran[1][0] != 0, f"{argv} succeeded inside the sandbox: {ran}"
        assert out["system"] != 0
        if not failed(ran):
            assert "root:" not in ran[1][1] and ran[1][1].strip() != "0", ran
    assert not Path("/etc/rixin-probe-shell").exists()
    assert_usable(shared)


# ---------------------------------------------------------------------------------------------------------------
# Environment secrets
# ---------------------------------------------------------------------------------------------------------------

SECRETS = {
    "OPENAI_API_KEY": "sk-rixin-test-" + uuid.uuid4().hex,
    "RIXIN_API_KEY": "rixin-test-" + uuid.uuid4().hex,
    "AWS_SECRET_ACCESS_KEY": "aws-test-" + uuid.uuid4().hex,
    "HF_TOKEN": "hf_test" + uuid.uuid4().hex,
}


@pytest.fixture(scope="module")
def secret_session() -> Iterator[Sandbox]:
    """A session started while the server's environment holds secrets (kept set for its whole life, in case the
    kernel is started lazily or restarted)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRETS.items():
            patch.setenv(name, value)
        with open_session() as sb:
            sb.run("1")
            yield sb


SECRET_PLACES = {
    "os_environ": "out['text'] = repr(dict(os.environ))",
    "proc_self_environ": "out['text'] = open('/proc/self/environ', 'rb').read().decode('latin-1')",
    "proc_1_environ": "out['text'] = repr(_try(lambda: open('/proc/1/environ', 'rb').read().decode('latin-1')))",
    "every_proc_environ_and_cmdline": (
        "out['text'] = ''.join(repr(_try(lambda p=p, f=f: open(f'/proc/{p}/{f}', 'rb').read().decode('latin-1')))"
        " for p in os.listdir('/proc') if p.isdigit() for f in ('environ', 'cmdline'))"
    ),
    "child_process_env": "out['text'] = __import__('subprocess').run(['env'], capture_output=True, text=True).stdout",
}


@pytest.mark.parametrize("place", sorted(SECRET_PLACES))
def test_host_secrets_not_in_sandbox_environment(secret_session: Sandbox, place: str) -> None:
    out = probe(secret_session, SECRET_PLACES[place])
    for name, value in SECRETS.items():
        assert value not in out["text"], f"{name} leaked into the sandbox through {place}"
        if place in ("os_environ", "child_process_env"):
            assert name not in out["text"], f"{name} is set inside the sandbox"
    assert_usable(secret_session)


# ---------------------------------------------------------------------------------------------------------------
# File transfer: names, symlinks, hardlinks, special files
# ---------------------------------------------------------------------------------------------------------------

BAD_NAMES = [
    "../escape.txt",
    "../../etc/passwd",
    "/etc/passwd",
    "/mnt/data/abs.txt",
    "a/../../escape.txt",
    "",
    "..",
    "a\0b",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_file_names_are_refused(shared: Sandbox, name: str) -> None:
    work_dir = host_work_dir(shared)
    with pytest.raises(SandboxFileError):
        shared.upload(name, b"pwned")
    with pytest.raises(SandboxFileError):
        shared.download(name)
    if work_dir is not None:
        assert not (work_dir.parent / "escape.txt").exists()
        assert not (work_dir.parent.parent / "escape.txt").exists()
    assert Path("/etc/passwd").read_bytes() != b"pwned"
    assert_usable(shared)


def remove_entries(sb: Sandbox, *names: str) -> None:
    """Remove work-folder entries (files or symlinks) from inside the session."""
    result = sb.run(
        f"import os\nfor _n in {list(names)!r}:\n    os.path.lexists('{WORK}/' + _n) and os.remove('{WORK}/' + _n)"
    )
    assert result.ok, result.to_dict()


def _make_link(sb: Sandbox, link: str, target: str) -> None:
    result = sb.run(
        f"import os\np = '{WORK}/{link}'\nos.makedirs(os.path.dirname(p), exist_ok=True)\n"
        f"os.path.lexists(p) and os.remove(p)\nos.symlink({target!r}, p)"
    )
    assert result.ok, result.to_dict()


DOWNLOAD_LINKS = {
    "to_etc_passwd": ("passwd", "/etc/passwd", "passwd"),
    "to_host_project_file": ("project", str(HOST_PROJECT_FILE), "project"),
    "relative_escape": ("rel", "../../../../../../../../etc/shadow", "rel"),
    "dir_link_to_root": ("rootdir", "/", "rootdir" + str(HOST_PROJECT_FILE)),
    "nested_relative_dir_link": ("sub/up", "../" * 12, "sub/up" + str(HOST_PROJECT_FILE)),
    "link_to_parent_folder": ("parent", "..", "parent/kernel.log"),
}


@pytest.mark.parametrize("case", sorted(DOWNLOAD_LINKS))
def test_download_refuses_symlinks(shared: Sandbox, case: str) -> None:
    link, target, request = DOWNLOAD_LINKS[case]
    _make_link(shared, link, target)
    try:
        with pytest.raises(SandboxFileError):
            data = shared.download(request)
            pytest.fail(f"download({request!r}) through a symlink returned {data[:80]!r}")
        assert link not in shared.list_files(), "list_files lists a symlink"
    finally:
        remove_entries(shared, link)
    assert_usable(shared)


def test_download_refuses_link_to_host_session_folder(shared: Sandbox) -> None:
    work_dir = host_work_dir(shared)
    assert work_dir is not None, f"could not find the host work folder among {host_paths(shared)}"
    folder = work_dir.parent
    victims = sorted(p.name for p in folder.iterdir() if p.is_file())
    _make_link(shared, "session", str(folder))
    try:
        for victim in victims or ["connection.json"]:
            with pytest.raises(SandboxFileError):
                data = shared.download(f"session/{victim}")
                pytest.fail(f"read host session file {victim}: {data[:80]!r}")
        _make_link(shared, "self", str(work_dir))
        with pytest.raises(SandboxFileError):
            shared.download("self/alive.txt")
    finally:
        remove_entries(shared, "session", "self")
    assert_usable(shared)


@pytest.mark.parametrize("case", ["into_host_dir", "over_host_file", "dangling_host_path"])
def test_upload_never_follows_symlinks_to_host(shared: Sandbox, tmp_path: Path, case: str) -> None:
    victim_dir = tmp_path / "victim"
    victim_dir.mkdir()
    victim_file = victim_dir / "victim.txt"
    victim_file.write_text("original")
    if case == "into_host_dir":
        _make_link(shared, "out", str(victim_dir))
        name, must_not_exist = "out/pwned.txt", victim_dir / "pwned.txt"
    elif case == "over_host_file":
        _make_link(shared, "victim.txt", str(victim_file))
        name, must_not_exist = "victim.txt", None
    else:
        _make_link(shared, "created.txt", str(victim_dir / "created.txt"))
        name, must_not_exist = "created.txt", victim_dir / "created.txt"
    try:
        with contextlib.suppress(SandboxFileError):
            shared.upload(name, b"PWNED")
        assert victim_file.read_text() == "original", "upload wrote through a symlink onto a host file"
        if must_not_exist is not None:
            assert not must_not_exist.exists(), f"upload created {must_not_exist} on the host"
        assert sorted(p.name for p in victim_dir.iterdir()) == ["victim.txt"]
    finally:
        remove_entries(shared, "out", "victim.txt", "created.txt")
    assert_usable(shared)


def test_download_symlink_swap_race(shared: Sandbox) -> None:
    """Code flips a name between a regular file and a symlink to a host-only file while the host downloads it."""
    secret = HOST_PROJECT_FILE.read_bytes()
    shared.run(
        f"""
import os, threading
_flip = threading.Event()
def _flipper():
    n = 0
    while not _flip.is_set():
        n += 1
        tmp = f"{WORK}/.race{{n % 2}}"
        if os.path.lexists(tmp):
            os.remove(tmp)
        if n % 2:
            os.symlink("{HOST_PROJECT_FILE}", tmp)
        else:
            with open(tmp, "wb") as f:
                f.write(b"regular")
        os.replace(tmp, "{WORK}/race")
threading.Thread(target=_flipper, daemon=True).start()
"""
    )
    leaks, refused, ok = 0, 0, 0
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                data = shared.download("race")
            except SandboxFileError:
                refused += 1
                continue
            if data == b"regular":
                ok += 1
            elif data[:100] == secret[:100] or b"[project]" in data:
                leaks += 1
    finally:
        shared.run("_flip.set()")
    assert leaks == 0, f"download returned the host's pyproject.toml {leaks} times ({ok} regular, {refused} refused)"
    assert ok + refused > 0
    assert_usable(shared)


def test_hardlinks_to_host_files_fail(shared: Sandbox, inside_paths: dict[str, str]) -> None:
    out = probe(
        shared,
        f"""
        out["passwd"] = _try(lambda: os.link("/etc/passwd", "{WORK}/hl-passwd"))
        out["shadow"] = _try(lambda: os.link("/etc/shadow", "{WORK}/hl-shadow"))
        out["python"] = _try(lambda: os.link({inside_paths["executable"]!r}, "{WORK}/hl-python"))
        """,
    )
    for name in ("passwd", "shadow", "python"):
        assert failed(out[name]), f"hardlink to {name} created: {out[name]}"
        with pytest.raises(SandboxFileError):
            shared.download(f"hl-{name}")
    assert_usable(shared)


def test_fifo_does_not_hang_file_transfer(fresh: Callable[..., Sandbox]) -> None:
    sb = fresh()
    sb.run(f"import os\nos.mkfifo('{WORK}/fifo')")
    work_dir = host_work_dir(sb)
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["data"] = sb.download("fifo")
        except SandboxFileError as e:
            outcome["refused"] = e
        outcome["listed"] = sb.list_files()

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    hung = worker.is_alive()
    if hung and work_dir is not None:  # unblock the reader
        with contextlib.suppress(OSError):
            os.close(os.open(work_dir / "fifo", os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
    assert not hung, "download or list_files of a FIFO blocked"
    assert "refused" in outcome, f"a FIFO was downloaded: {outcome}"
    assert "fifo" not in outcome["listed"]
    sb.run(f"import os\nos.remove('{WORK}/fifo')")
    assert_usable(sb)


# ---------------------------------------------------------------------------------------------------------------
# Output floods and garbage
# ---------------------------------------------------------------------------------------------------------------

FLOODS = {
    "stdout_one_write": "import sys\nsys.stdout.write('x' * 50_000_000)",
    "stdout_many_prints": "for _ in range(50_000):\n    print('y' * 1000)",
    "stderr": "import sys\nsys.stderr.write('z' * 50_000_000)",
    "fd_level_output": "import os\nfor _ in range(50):\n    os.write(1, b'w' * 1_000_000)",
    "last_expression": "'v' * 50_000_000",
    "exception_message": "raise ValueError('e' * 10_000_000)",
}


@pytest.mark.parametrize("name", sorted(FLOODS))
def test_output_floods_are_truncated(fresh: Callable[..., Sandbox], name: str) -> None:
    sb = fresh()  # a fresh one each: a 50 MB value kept in Out[] would eat the next case's memory
    start = time.monotonic()
    result = sb.run(FLOODS[name], timeout_s=60)
    elapsed = time.monotonic() - start
    parts = {"stdout": len(result.stdout), "stderr": len(result.stderr), "results": sum(map(len, result.results))}
    if result.error is not None:
        parts |= {"error.value": len(result.error.value), "error.traceback": len(result.error.traceback)}
    kept = sum(parts.values())
    assert kept <= LIMITS.max_output_chars + 2_000, f"{name}: {kept} chars kept ({parts})"
    assert result.truncated, f"{name}: truncated not set ({parts})"
    assert not result.timed_out and elapsed < 60, f"{name} took {elapsed:.1f} s"
    assert_usable(sb)


GARBAGE = {
    "random_bytes_on_fd1": "import os\nos.write(1, os.urandom(100_000))",
    "random_bytes_stdout_buffer": "import os, sys\ngetattr(sys.stdout, 'buffer', sys.stdout).write(os.urandom(4096))",
    "lone_surrogates": "print('\\udcff\\ud800 tail')",
    "control_characters": "print('\\x00\\x1b[2J\\x07\\x1b]0;title\\x07\\r\\b' * 1000)",
    "invalid_utf8_on_fd2": "import os\nos.write(2, b'\\xff\\xfe\\xc3\\x28' * 10_000)",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_binary_garbage_output_does_not_crash(shared: Sandbox, name: str) -> None:
    result = shared.run(GARBAGE[name] + "\nimport sys; sys.stdout.flush(); sys.stderr.flush()", timeout_s=30)
    assert isinstance(result.stdout, str) and isinstance(result.stderr, str)
    assert not result.timed_out
    json.dumps(result.to_dict())  # serialisable for the API, whatever the bytes were
    assert_usable(shared)


_PNG = (
    "import struct, zlib\n"
    "def _chunk(t, d):\n"
    "    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xFFFFFFFF)\n"
    "png = (b'\\x89PNG\\r\\n\\x1a\\n' + _chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0))\n"
    "       + _chunk(b'IDAT', zlib.compress(b'\\x00\\xff\\x00\\x00')) + _chunk(b'IEND', b''))\n"
)


def test_infinite_image_display_is_bounded(shared: Sandbox) -> None:
    result = shared.run(
        _PNG + "from IPython.display import Image, display\nwhile True:\n    display(Image(data=png))", timeout_s=4
    )
    try:
        assert result.timed_out, result.to_dict()
        assert len(result.images) <= 20, f"{len(result.images)} images kept"
        assert result.truncated or len(result.images) < 20
        for image in result.images:
            assert image.is_file() and not image.is_symlink()
            assert image.stat().st_size < 1_000_000
    finally:
        for image in result.images:
            image.unlink(missing_ok=True)
    assert_usable(shared)


def test_oversized_image_is_not_saved(shared: Sandbox) -> None:
    garbage = base64.b64encode(b"\x89PNG" + b"\0" * 100).decode()
    result = shared.run(
        "import base64\nfrom IPython.display import display\n"
        "display({'image/png': base64.b64encode(b'\\x89PNG' + b'\\0' * (40 * 1024 * 1024)).decode()}, raw=True)\n"
        f"display({{'image/png': {garbage!r}}}, raw=True)",
        timeout_s=60,
    )
    try:
        assert result.error is None, result.to_dict()
        assert all(image.stat().st_size <= 20 * MB for image in result.images), [i.stat() for i in result.images]
    finally:
        for image in result.images:
            image.unlink(missing_ok=True)
    assert_usable(shared)


# ---------------------------------------------------------------------------------------------------------------
# cgroups
# ---------------------------------------------------------------------------------------------------------------


def test_cgroups_not_writable_from_inside(shared: Sandbox) -> None:
    out = probe(
        shared,
        """
        cgroups = _try(lambda: open("/proc/self/cgroup").read().splitlines())
        out["cgroups"] = cgroups
        targets = ["/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max",
                   "/sys/fs/cgroup/memory/cgroup.procs", "/sys/fs/cgroup/pids/cgroup.procs",
                   "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/release_agent"]
        if cgroups[0] == "ok":
            for line in cgroups[1]:
                _, controllers, path = line.split(":", 2)
                for controller in controllers.split(","):
                    if controller in ("memory", "pids"):
                        base = f"/sys/fs/cgroup/{controller}{path}"
                        targets += [base + "/memory.limit_in_bytes", base + "/pids.max", base + "/../cgroup.procs"]
        results = {}
        for target in targets:
            value = "max" if target.endswith("pids.max") else (str(os.getpid()) if "procs" in target else "-1")
            results[target] = _try(lambda t=target, v=value: open(t, "w").write(v))
        results["mkdir"] = _try(lambda: os.mkdir("/sys/fs/cgroup/memory/rixin-escape"))
        results["mount"] = _try(lambda: __import__("subprocess").run(
            ["mount", "-t", "cgroup", "-o", "memory", "none", "/tmp"], check=True, capture_output=True))
        out["results"] = results
        """,
    )
    written = {t: r for t, r in out["results"].items() if not failed(r)}
    assert not written, f"cgroup files writable inside the sandbox: {written}"
    assert not Path("/sys/fs/cgroup/memory/rixin-escape").exists()
    assert_usable(shared)


def test_session_is_confined_by_host_cgroups(fresh: Callable[..., Sandbox]) -> None:
    uid = sandbox_uid()
    before = pids_of_uid(uid)
    sb = fresh()
    mine = pids_of_uid(uid) - before
    assert mine
    limits: dict[str, set[int]] = {"memory": set(), "pids": set()}
    for pid in mine:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
                _, controllers, path = line.split(":", 2)
                for controller, limit_file in (("memory", "memory.limit_in_bytes"), ("pids", "pids.max")):
                    if controller in controllers.split(","):
                        text = Path(f"/sys/fs/cgroup/{controller}{path}/{limit_file}").read_text().strip()
                        limits[controller].add(-1 if text == "max" else int(text))
    assert limits["memory"] and max(limits["memory"]) <= LIMITS.memory_mb * MB, f"memory cgroup limits: {limits}"
    assert limits["pids"] and -1 not in limits["pids"] and max(limits["pids"]) <= LIMITS.max_processes + 16, limits
    assert_usable(sb)
