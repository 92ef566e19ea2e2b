"""Start the test MCP servers (tests/plugins/servers/) as real processes, over stdio or streamable HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rixin.plugins import McpServerSpec

SERVERS = Path(__file__).parent / "servers"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


def stdio_spec(script: str, **settings: Any) -> McpServerSpec:
    return McpServerSpec(name=script, command=[sys.executable, str(SERVERS / f"{script}.py")], **settings)


@contextmanager
def http_server(script: str) -> Iterator[str]:
    """Run `script` with `--http PORT`; yields its MCP URL; kills it afterwards."""
    port = free_port()
    command = [sys.executable, str(SERVERS / f"{script}.py"), "--http", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        process.wait(timeout=10)
