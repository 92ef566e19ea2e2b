"""GatewaySandbox against a real Jupyter Kernel Gateway started on localhost for this module.

The gateway runs host kernels from this virtual environment, so these tests check the protocol, the file
helpers and the timeout handling, not isolation (a gateway's isolation is its own machine's).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rixin.sandbox import gateway as gateway_module
from rixin.sandbox.base import Limits, SandboxError, SandboxFileError
from rixin.sandbox.gateway import GatewaySandbox

JUPYTER = Path(sys.executable).with_name("jupyter")
PNG_MAGIC = b"\x89PNG"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass
class Gateway:
    url: str
    token: str


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    if not JUPYTER.exists():
        pytest.skip(f"{JUPYTER} is missing (install the dev extras)")
    home = tmp_path_factory.mktemp("gateway")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    env.pop("MPLBACKEND", None)  # the kernels' inline backend turns plt.show() into PNG outputs
    log = (home / "gateway.log").open("wb")
    process = subprocess.Popen(
        [
            str(JUPYTER),
            "kernelgateway",
            "--KernelGatewayApp.ip=127.0.0.1",
            f"--KernelGatewayApp.port={port}",
            "--KernelGatewayApp.port_retries=0",
            f"--KernelGatewayApp.auth_token={token}",
        ],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"the Kernel Gateway exited: {(home / 'gateway.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/api", headers={"Authorization": f"token {token}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the Kernel Gateway did not answer: {(home / 'gateway.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield Gateway(url, token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def sandbox(gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewaySandbox]:
    """One session shared by the tests that leave it usable (kernel start-up is the slow part)."""
    images = tmp_path_factory.mktemp("images")
    with GatewaySandbox(gateway.url, auth_token=gateway.token, limits=Limits(timeout_s=30), image_dir=images) as sb:
        assert isinstance(sb, GatewaySandbox)
        yield sb


def test_state_survives_between_runs(sandbox: GatewaySandbox) -> None:
    assert sandbox.run("counter = 40").ok
    assert sandbox.run("counter += 2").ok
    result = sandbox.run("counter")
    assert result.ok and result.results == ["42"]


def test_stdout_stderr_and_last_expression(sandbox: GatewaySandbox) -> None:
    result = sandbox.run("import sys\nprint('to out')\nprint('to err', file=sys.stderr)\n'done' + '!'")
    assert result.ok
    assert result.stdout == "to out\n"
    assert result.stderr == "to err\n"
    assert result.results == ["'done!'"]
    assert result.duration_s > 0


def test_output_is_bounded(sandbox: GatewaySandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "limits", dataclasses.replace(sandbox.limits, max_output_chars=100))
    result = sandbox.run("print('x' * 1000)")
    assert result.truncated and result.stdout == "x" * 100
    assert "truncated" in result.stderr


def test_error_with_traceback(sandbox: GatewaySandbox) -> None:
    result = sandbox.run("def f():\n    return 1 / 0\nf()")
    assert not result.ok and result.error is not None
    assert result.error.name == "ZeroDivisionError"
    assert result.error.value == "division by zero"
    assert "return 1 / 0" in result.error.traceback
    assert "\x1b[" not in result.error.traceback
    assert not result.timed_out


def test_png_images(sandbox: GatewaySandbox) -> None:
    code = (
        "import io\n"
        "import matplotlib.pyplot as plt\n"
        "from matplotlib.figure import Figure\n"
        "from IPython.display import Image, display\n"
        "figure = Figure()\n"  # an Agg canvas of its own, whatever the pyplot backend
        "figure.subplots().plot([1, 3, 2])\n"
        "buffer = io.BytesIO()\n"
        "figure.savefig(buffer, format='png')\n"
        "display(Image(buffer.getvalue()))\n"
        "plt.plot([1, 2, 3])\n"
        "plt.show()\n"
    )
    result = sandbox.run(code)
    assert result.ok, result.error
    assert len(result.images) == 2
    for path in result.images:
        assert path.parent == sandbox.image_dir
        assert path.read_bytes().startswith(PNG_MAGIC)


def test_upload_download_round_trip(sandbox: GatewaySandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks so that both directions take several (unaligned) messages.
    monkeypatch.setattr(gateway_module, "UPLOAD_CHUNK", 64 * 1024)
    monkeypatch.setattr(gateway_module, "DOWNLOAD_CHUNK", 50_000)
    data = bytes(range(256)) * 800 + b"\x00\xff"
    assert sandbox.upload("in/./data.bin", data) == "in/data.bin"
    assert sandbox.download("in/data.bin") == data
    result = sandbox.run("len(open('in/data.bin', 'rb').read())")
    assert result.results == [str(len(data))]
    assert sandbox.upload("empty.txt", b"") == "empty.txt"
    assert sandbox.download("empty.txt") == b""
    assert {"in/data.bin", "empty.txt"} <= set(sandbox.list_files())


def test_bad_names_rejected(sandbox: GatewaySandbox) -> None:
    for name in ("../escape.txt", "/etc/passwd", "", "a/../../b", "nul\x00byte"):
        with pytest.raises(SandboxFileError):
            sandbox.upload(name, b"x")
        with pytest.raises(SandboxFileError):
            sandbox.download(name)
    with pytest.raises(SandboxFileError, match="no such file"):
        sandbox.download("missing.txt")
    # Symlinks made by the code are refused by the kernel-side checks, both ways, and are not listed.
    secret = sandbox.run("import os, tempfile\nsecret = tempfile.mkstemp()[1]\nopen(secret, 'w').write('s')")
    assert secret.ok
    assert sandbox.run("os.symlink(secret, 'link.txt')\nos.symlink(os.path.dirname(secret), 'linkdir')").ok
    with pytest.raises(SandboxFileError, match="symbolic link"):
        sandbox.download("link.txt")
    with pytest.raises(SandboxFileError, match="symbolic link"):
        sandbox.upload("linkdir/planted.txt", b"x")
    with pytest.raises(SandboxFileError, match="symbolic link"):
        sandbox.upload("link.txt", b"x")
    assert not {"link.txt", "linkdir"} & set(sandbox.list_files())
    assert sandbox.run("open(secret).read()").results == ["'s'"]
    assert sandbox.run("os.unlink(secret); os.unlink('link.txt'); os.unlink('linkdir')").ok


def test_size_cap(sandbox: GatewaySandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sandbox.run("open('big.bin', 'wb').write(b'x' * (1024 * 1024 + 1))").ok
    monkeypatch.setattr(sandbox, "limits", dataclasses.replace(sandbox.limits, max_file_mb=1))
    with pytest.raises(SandboxFileError, match="limit"):
        sandbox.upload("too-big.bin", b"x" * (1024 * 1024 + 1))
    with pytest.raises(SandboxFileError, match="limit"):
        sandbox.download("big.bin")
    assert sandbox.run("import os; os.unlink('big.bin')").ok


def test_files_reported(sandbox: GatewaySandbox) -> None:
    sandbox.upload("kept.txt", b"unchanged")
    sandbox.upload("edited.txt", b"v1")
    result = sandbox.run(
        "import os, time\n"
        "os.makedirs('out', exist_ok=True)\n"
        "open('out/new.csv', 'w').write('a,b\\n')\n"
        "open('edited.txt', 'w').write('version 2')\n"
    )
    assert result.ok, result.error
    assert result.files == ["edited.txt", "out/new.csv"]
    assert sandbox.download("out/new.csv") == b"a,b\n"
    assert sandbox.run("1 + 1").files == []
    # The kernel-side helpers are reinstalled on every call, so code that removes them changes nothing.
    assert sandbox.run("import sys\ndel sys.modules['_rixin_gateway_helpers']").ok
    assert {"kept.txt", "edited.txt", "out/new.csv"} <= set(sandbox.list_files())


def test_timeout_interrupts_and_keeps_state(sandbox: GatewaySandbox) -> None:
    assert sandbox.run("survivor = 'still here'").ok
    started = time.monotonic()
    result = sandbox.run("import time\nprint('before')\ntime.sleep(30)", timeout_s=1)
    assert time.monotonic() - started < 10
    assert result.timed_out and not result.ok
    assert result.error is not None and result.error.name == "KeyboardInterrupt"
    assert result.stdout == "before\n"
    assert sandbox.run("survivor").results == ["'still here'"]


def test_interrupt_from_another_thread(sandbox: GatewaySandbox) -> None:
    timer = threading.Timer(0.5, sandbox.interrupt)
    timer.start()
    try:
        result = sandbox.run("import time\ntime.sleep(20)")
    finally:
        timer.cancel()
    assert result.error is not None and result.error.name == "KeyboardInterrupt"
    assert not result.timed_out
    assert sandbox.run("'alive'").results == ["'alive'"]


def test_uninterruptible_run_restarts_the_session(gateway: Gateway) -> None:
    with GatewaySandbox(gateway.url, auth_token=gateway.token) as sb:
        assert isinstance(sb, GatewaySandbox)
        sb.interrupt_grace_s = 0.5
        sb.upload("keep.txt", b"kept")
        assert sb.run("lost = 1").ok
        code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
        result = sb.run(code, timeout_s=1)
        assert result.timed_out
        assert result.error is not None and result.error.name == "SessionRestarted"
        after = sb.run("import os\nprint(open('keep.txt').read())\n'lost' in dir()")
        assert after.ok and after.stdout == "kept\n" and after.results == ["False"]
        assert sb.run("os.getcwd()").results == [repr(sb.work_dir)]


def test_kernel_death_raises(gateway: Gateway) -> None:
    sb = GatewaySandbox(gateway.url, auth_token=gateway.token)
    with pytest.raises(SandboxError, match="died"):
        sb.run("import os\nos._exit(1)", timeout_s=30)
    with pytest.raises(SandboxError, match="closed"):
        sb.run("1")
    sb.close()


def test_wrong_token(gateway: Gateway) -> None:
    with pytest.raises(SandboxError, match="401"):
        GatewaySandbox(gateway.url, auth_token="not-the-token")
    with pytest.raises(SandboxError, match="401"):
        GatewaySandbox(gateway.url)


def test_unreachable_url_is_named() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(SandboxError, match=url.replace(".", r"\.")):
        GatewaySandbox(url)


def test_close_is_idempotent(gateway: Gateway) -> None:
    sb = GatewaySandbox(gateway.url, auth_token=gateway.token)
    work, images, kernel = Path(sb.work_dir), sb.image_dir, sb.kernel_id
    assert work.is_dir() and images.is_dir()  # the gateway runs on this machine
    sb.close()
    sb.close()
    assert not work.exists() and not images.exists()
    answer = httpx.get(f"{gateway.url}/api/kernels/{kernel}", headers={"Authorization": f"token {gateway.token}"})
    assert answer.status_code == 404
    with pytest.raises(SandboxError, match="closed"):
        sb.run("1")
    with pytest.raises(SandboxError, match="closed"):
        sb.list_files()
