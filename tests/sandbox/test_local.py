"""LocalSandbox (bubblewrap) and UnsafeLocalSandbox: the session contract of base.py on real kernels.

Most tests share one session (a start costs ~0.4 s); those that break, restart or close a session get their own.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rixin.sandbox import LocalSandbox, SandboxRuntime, UnsafeLocalSandbox, local, open_sandbox
from rixin.sandbox.base import Limits, SandboxError, SandboxFileError
from rixin.sandbox.kernel import INTERRUPT_GRACE_S

pytestmark = pytest.mark.timeout(120)

LIMITS = Limits(timeout_s=20, memory_mb=1024, max_processes=48, max_file_mb=16, disk_mb=64)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sandbox(sandbox_runtime: SandboxRuntime) -> Iterator[LocalSandbox]:
    with LocalSandbox(LIMITS, runtime=sandbox_runtime) as session:
        yield session


@pytest.fixture()
def fresh(sandbox_runtime: SandboxRuntime) -> Iterator[LocalSandbox]:
    with LocalSandbox(LIMITS, runtime=sandbox_runtime) as session:
        yield session


def test_state_survives_between_runs(sandbox: LocalSandbox) -> None:
    assert sandbox.run("counter = 41\ndef bump(n):\n    return n + 1").ok
    result = sandbox.run("bump(counter)")
    assert result.ok, result.to_dict()
    assert result.results == ["42"]


def test_stdout_stderr_and_error_with_traceback(sandbox: LocalSandbox) -> None:
    result = sandbox.run(
        "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\n"
        "def fail():\n    raise ValueError('bad value 7')\nfail()"
    )
    assert result.stdout == "to stdout\n"
    assert "to stderr" in result.stderr
    assert result.error is not None and not result.ok
    assert result.error.name == "ValueError"
    assert result.error.value == "bad value 7"
    assert "fail()" in result.error.traceback and "raise ValueError" in result.error.traceback
    assert "\x1b[" not in result.error.traceback


def test_last_expression_is_a_result(sandbox: LocalSandbox) -> None:
    result = sandbox.run("x = [1, 2, 3]\nsum(x) * 2")
    assert result.results == ["12"]
    assert sandbox.run("x = 5").results == []


def test_inside_the_sandbox(sandbox: LocalSandbox) -> None:
    """The basics of the isolation (test_security.py attacks it properly): not root, no network, no secrets."""
    os.environ["RIXIN_TEST_SECRET"] = "leak-me"
    try:
        result = sandbox.run(
            "import os, socket\n"
            "print(os.getuid(), os.getcwd(), os.path.exists('/etc/shadow'), 'RIXIN_TEST_SECRET' in os.environ)\n"
            "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
            "except OSError as e:\n    print('net', e)"
        )
    finally:
        del os.environ["RIXIN_TEST_SECRET"]
    uid, cwd, shadow, secret = result.stdout.splitlines()[0].split()
    assert uid != "0" and cwd == "/mnt/data" and shadow == "False" and secret == "False"
    assert "net" in result.stdout


def test_plot_is_saved_as_png_outside_the_work_folder(sandbox: LocalSandbox) -> None:
    result = sandbox.run("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('demo')\nplt.show()")
    assert result.ok, result.to_dict()
    assert len(result.images) == 1
    image = result.images[0]
    assert image.read_bytes().startswith(PNG)
    assert image.parent == sandbox.folder / "outputs"
    assert result.files == []  # nothing landed in the work folder


def test_chinese_labels_use_the_cjk_font(sandbox: LocalSandbox) -> None:
    result = sandbox.run(
        "import io, warnings\n"
        "import matplotlib.pyplot as plt\n"
        "from matplotlib import font_manager\n"
        "fig, ax = plt.subplots()\n"
        "title = ax.set_title('各省人口（万人）')\n"
        "print(font_manager.findfont(title.get_fontproperties()))\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    fig.savefig(io.BytesIO(), format='png')\n"
        "print('missing glyphs:', [str(w.message) for w in caught if 'missing' in str(w.message)])\n"
        "plt.close(fig)"
    )
    assert result.ok, result.to_dict()
    font, missing = result.stdout.splitlines()
    assert "wqy-microhei" in font
    assert missing == "missing glyphs: []"


def test_files_created_or_modified_are_reported(sandbox: LocalSandbox) -> None:
    first = sandbox.run(
        "import os\nos.makedirs('report/parts', exist_ok=True)\n"
        "open('table.csv', 'w').write('a,b\\n1,2\\n')\nopen('report/parts/p1.txt', 'w').write('one')"
    )
    assert first.files == ["report/parts/p1.txt", "table.csv"]
    second = sandbox.run("open('table.csv', 'a').write('3,4\\n')")
    assert second.files == ["table.csv"]
    assert sandbox.run("print(open('table.csv').read())").files == []
    assert {"report/parts/p1.txt", "table.csv"} <= set(sandbox.list_files())


def test_upload_download_round_trip(sandbox: LocalSandbox) -> None:
    payload = bytes(range(256)) * 100
    assert sandbox.upload("in/nested/data.bin", payload) == "in/nested/data.bin"
    assert sandbox.upload("./名字 with space.txt", "你好".encode()) == "名字 with space.txt"
    result = sandbox.run(
        "import hashlib\nprint(hashlib.sha256(open('in/nested/data.bin', 'rb').read()).hexdigest())\n"
        "print(open('名字 with space.txt').read())\nopen('in/nested/data.bin', 'ab').write(b'+')"
    )
    import hashlib

    assert result.ok, result.to_dict()
    assert result.stdout.splitlines() == [hashlib.sha256(payload).hexdigest(), "你好"]
    assert sandbox.download("in/nested/data.bin") == payload + b"+"  # the code could write the uploaded file
    assert sandbox.download("名字 with space.txt") == "你好".encode()
    assert "in/nested/data.bin" in sandbox.list_files()


def test_upload_overwrites_and_refuses_folders(sandbox: LocalSandbox) -> None:
    sandbox.upload("over.txt", b"old")
    sandbox.upload("over.txt", b"new")
    assert sandbox.download("over.txt") == b"new"
    sandbox.upload("dir/inner.txt", b"x")
    with pytest.raises(SandboxFileError):
        sandbox.upload("dir", b"x")
    with pytest.raises(SandboxFileError):
        sandbox.download("dir")
    with pytest.raises(SandboxFileError):
        sandbox.download("no-such-file.txt")


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.txt", "a/../../escape.txt", "..", "", "x\x00y"])
def test_bad_names_are_rejected(sandbox: LocalSandbox, name: str) -> None:
    with pytest.raises(SandboxFileError):
        sandbox.upload(name, b"x")
    with pytest.raises(SandboxFileError):
        sandbox.download(name)


def test_symlinks_out_of_the_work_folder_are_refused(sandbox: LocalSandbox, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("host secret")
    made = sandbox.run(
        f"import os\nos.symlink('/etc/passwd', 'passwd-link')\nos.symlink('{tmp_path}', 'dir-link')\n"
        "os.symlink('/etc', 'etc-link')"
    )
    assert made.ok, made.to_dict()
    for name in ("passwd-link", "etc-link/passwd", "dir-link/victim.txt"):
        with pytest.raises(SandboxFileError):
            sandbox.download(name)
    with pytest.raises(SandboxFileError):
        sandbox.upload("dir-link/victim.txt", b"PWNED")
    sandbox.upload("passwd-link", b"replaced")  # replaces the link itself, never writes through it
    assert victim.read_text() == "host secret"
    assert sandbox.download("passwd-link") == b"replaced"
    assert "passwd-link" in sandbox.list_files() and "etc-link/passwd" not in sandbox.list_files()


def test_forged_kernel_messages_do_not_break_the_host(sandbox: LocalSandbox) -> None:
    """The code holds the kernel's key, so it can publish anything on iopub: odd types, bad JSON, bad HMACs."""
    result = sandbox.run(
        "kernel = get_ipython().kernel\n"
        "parent, session, sock = kernel.get_parent(), kernel.session, kernel.iopub_socket\n"
        "session.send(sock, 'stream', content=b'[1, 2]', parent=parent)\n"
        "session.send(sock, 'display_data', content={'data': ['x'], 'metadata': 3}, parent=parent)\n"
        "session.send(sock, 'error', content={'ename': 5, 'evalue': None, 'traceback': 7}, parent=parent)\n"
        "sock.send_multipart([b'<IDS|MSG>', b'bad', b'{', b'}', b'{}', b'{}'])\n"
        "print('after the forgeries')"
    )
    assert result.ok and result.stdout == "after the forgeries\n", result.to_dict()
    assert sandbox.run("1 + 1").results == ["2"]


def test_interrupt_from_another_thread_keeps_state(sandbox: LocalSandbox) -> None:
    sandbox.run("kept = 'still here'")
    timer = threading.Timer(0.5, sandbox.interrupt)
    timer.start()
    result = sandbox.run("import time\nfor step in range(200):\n    time.sleep(0.05)")
    timer.join()
    assert not result.timed_out
    assert result.error is not None and result.error.name == "KeyboardInterrupt"
    assert result.duration_s < 5
    assert sandbox.run("print(kept, step < 199)").stdout == "still here True\n"


def test_timeout_interrupts_and_the_session_still_works(sandbox: LocalSandbox) -> None:
    sandbox.run("before_timeout = 1")
    result = sandbox.run("while True:\n    pass", timeout_s=1)
    assert result.timed_out and not result.ok
    assert result.error is not None and result.error.name == "KeyboardInterrupt"
    assert 1 <= result.duration_s < 1 + INTERRUPT_GRACE_S + 1
    assert sandbox.run("before_timeout + 1").results == ["2"]


def test_uninterruptible_code_restarts_the_session(fresh: LocalSandbox) -> None:
    fresh.run("lost = 1")
    result = fresh.run("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)", timeout_s=1)
    assert result.timed_out
    assert result.error is not None and result.error.name == "SessionRestarted"
    assert "lost" in result.error.value and "restarted" in result.error.value
    after = fresh.run("'lost' in globals(), 6 * 7")
    assert after.ok and after.results == ["(False, 42)"]


def test_memory_hog_fails_and_the_session_recovers(fresh: LocalSandbox) -> None:
    fresh.run("small = 'survives a MemoryError'")
    result = fresh.run("hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 * 1024))", timeout_s=60)
    assert not result.ok
    assert result.error is not None and result.error.name in ("MemoryError", "SessionRestarted"), result.to_dict()
    assert fresh.run("hog = None\n1 + 1").results == ["2"]
    if result.error.name == "MemoryError":
        assert fresh.run("small").results == ["'survives a MemoryError'"]


def test_kernel_death_restarts_the_session(fresh: LocalSandbox) -> None:
    result = fresh.run("import os\nos._exit(3)")
    assert result.error is not None and result.error.name == "SessionRestarted"
    assert "died" in result.error.value
    assert fresh.run("2 + 2").results == ["4"]


def test_close_is_idempotent_and_removes_everything(sandbox_runtime: SandboxRuntime) -> None:
    session = LocalSandbox(LIMITS, runtime=sandbox_runtime)
    session.run("open('f.txt', 'w').write('x')")
    folder = session.folder
    cgroups = [Path(f"/sys/fs/cgroup/{c}/rixin/{session.session_id}") for c in ("memory", "pids")]
    assert folder.is_dir()
    if os.geteuid() == 0:
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert folder.stat().st_uid == sandbox_runtime.user.uid  # type: ignore[union-attr]
        assert session.disk_enforcement == "tmpfs"
    session.close()
    session.close()
    assert not folder.exists()
    assert not any(path.exists() for path in cgroups)
    with pytest.raises(SandboxError):
        session.run("1")
    with pytest.raises(SandboxError):
        session.upload("a.txt", b"x")


def test_session_started_by_a_short_lived_thread_survives_it(sandbox_runtime: SandboxRuntime) -> None:
    """bwrap's --die-with-parent fires when the *thread* that started it exits (pool fillers, request handlers)."""
    started: list[LocalSandbox] = []
    thread = threading.Thread(target=lambda: started.append(LocalSandbox(LIMITS, runtime=sandbox_runtime)))
    thread.start()
    thread.join()
    with started[0] as session:
        time.sleep(0.2)
        assert session.alive
        assert session.run("1 + 1").results == ["2"]


def test_an_unclosed_session_is_cleaned_up_when_collected(sandbox_runtime: SandboxRuntime) -> None:
    session = LocalSandbox(LIMITS, runtime=sandbox_runtime)
    folder = session.folder
    del session
    gc.collect()
    assert not folder.exists()


def test_sessions_left_by_a_killed_process_are_swept(sandbox_runtime: SandboxRuntime) -> None:
    code = (
        "import os\nfrom rixin.sandbox.local import LocalSandbox\n"
        "session = LocalSandbox()\nprint(session.folder, flush=True)\nos.kill(os.getpid(), 9)"
    )
    env = {**os.environ, "RIXIN_SANDBOX_HOME": str(sandbox_runtime.home)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    folder = Path(done.stdout.strip())
    assert folder.parent == sandbox_runtime.sessions and folder.is_dir(), done.stderr
    local._swept.discard(sandbox_runtime.sessions)  # once per process: pretend this one has not swept yet
    local.sweep_stale_sessions(sandbox_runtime)
    assert not folder.exists()
    assert not Path(f"/sys/fs/cgroup/pids/rixin/{folder.name}").exists()


def test_disk_limit(fresh: LocalSandbox) -> None:
    result = fresh.run("data = b'x' * (8 << 20)\nfor i in range(20):\n    open(f'part{i}.bin', 'wb').write(data)")
    assert result.error is not None
    assert result.error.name in ("OSError", "DiskLimitExceeded"), result.to_dict()
    assert fresh.run("import os\nfor f in os.listdir('.'):\n    os.remove(f)\n'ok'").results == ["'ok'"]


def test_open_sandbox_kinds(sandbox_runtime: SandboxRuntime) -> None:
    with pytest.raises(SandboxError):
        open_sandbox("gateway")
    with pytest.raises(SandboxError):
        open_sandbox("docker")


def test_unsafe_sandbox_runs_the_same_contract(sandbox_runtime: SandboxRuntime) -> None:
    with UnsafeLocalSandbox(Limits(timeout_s=10)) as session:
        assert session.run("x = 20").ok
        assert session.run("x * 2 + 2").results == ["42"]
        session.upload("in.txt", b"abc")
        result = session.run("open('out.txt', 'w').write(open('in.txt').read().upper())")
        assert result.files == ["out.txt"]
        assert session.download("out.txt") == b"ABC"
        started = time.monotonic()
        timed = session.run("import time\ntime.sleep(30)", timeout_s=1)
        assert timed.timed_out and time.monotonic() - started < 5
        folder = session.folder
    assert not folder.exists()
