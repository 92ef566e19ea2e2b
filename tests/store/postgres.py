"""A real, throw-away PostgreSQL server for the tests: initdb + pg_ctl in a temp folder, on a free port, run as
the `postgres` OS user when the tests run as root (initdb refuses root). CI installs the Debian package
`postgresql`; when its binaries are missing the fixture fails, it never skips."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

MISSING = "PostgreSQL server binaries not found (initdb, pg_ctl): install the Debian package `postgresql`"


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin, else wherever `initdb` is on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True) as c:
            c.execute(sql.encode())


def _as_user(command: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb and the server refuse root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(MISSING)
    folder = Path(tempfile.mkdtemp(prefix="rixin-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (folder, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    pg_ctl = str(bin_dir / "pg_ctl")
    try:
        subprocess.run(
            _as_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        started = subprocess.run(
            _as_user([pg_ctl, "start", "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w"]),
            capture_output=True,
            text=True,
            timeout=90,
        )
        if started.returncode != 0:
            log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
            pytest.fail(f"PostgreSQL did not start: {started.stderr}\n{log[-2000:]}")
        yield PostgresServer("127.0.0.1", port, "postgres")
    finally:
        if data.exists():
            subprocess.run(_as_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
