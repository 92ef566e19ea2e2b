"""`rixin keys create|list|revoke` as real subprocesses, and what a server makes of those keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from rixin.server import ServerSettings
from rixin.store import open_store

from .helpers import FakeModel, serve_in_thread

RIXIN = [sys.executable, "-m", "rixin.cli.main"]


def rixin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RIXIN, *args], capture_output=True, text=True, timeout=120)


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "keys.db")  # a plain path means SQLite
    created = rixin("keys", "create", "ci-bot", "--db", db)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.rstrip("\n").splitlines()[-1]
    assert secret.startswith("rx-") and secret == secret.strip() and " " not in secret and len(secret) > 40

    listed = rixin("keys", "list", "--db", db)
    assert listed.returncode == 0 and "ci-bot" in listed.stdout and secret[:10] in listed.stdout
    assert secret not in listed.stdout
    raw = (tmp_path / "keys.db").read_bytes()
    assert secret.encode() not in raw  # stored hashed

    store = open_store(db)
    try:
        with serve_in_thread(ServerSettings(), model=FakeModel(), store=store) as server:
            headers = {"Authorization": f"Bearer {secret}"}
            assert httpx.get(server.v1 + "/models", headers=headers).status_code == 200
            revoked = rixin("keys", "revoke", secret[:8], "--db", db)
            assert revoked.returncode == 0, revoked.stderr
            assert "revoked" in revoked.stdout
            assert httpx.get(server.v1 + "/models", headers=headers).status_code == 401
    finally:
        store.close()


def test_keys_revoke_unknown_fails_cleanly(tmp_path: Path) -> None:
    result = rixin("keys", "revoke", "key_missing", "--db", str(tmp_path / "k.db"))
    assert result.returncode == 2 and result.stderr.startswith("error: no key")


def test_serve_refuses_no_auth_on_a_public_host(tmp_path: Path) -> None:
    result = rixin("serve", "--host", "0.0.0.0", "--no-auth", "--db", str(tmp_path / "k.db"))
    assert result.returncode == 2 and "--no-auth" in result.stderr and "127.0.0.1" in result.stderr
