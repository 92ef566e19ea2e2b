"""Durability with a real `rixin serve` process: SIGKILL it in the middle of a generation; what was committed
(a conversation) is there after the restart, and the interrupted run is marked failed, not left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from rixin.store import INTERRUPTED, open_store

from .helpers import free_port

pytestmark = pytest.mark.model

RIXIN = [sys.executable, "-m", "rixin.cli.main"]
MODEL = "smollm2-135m"


@contextmanager
def rixin_serve(db: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {**os.environ, "RIXIN_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [*RIXIN, "serve", "--model", MODEL, "--db", db, "--no-auth", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise AssertionError(f"rixin serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"rixin serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_sigkill_loses_no_committed_conversation_and_fails_the_interrupted_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'rixin.db'}"
    log = tmp_path / "serve.log"
    items = [{"role": "user", "content": "记住这句话"}, {"role": "assistant", "content": "好的"}]
    with rixin_serve(db, log) as (process, url):
        made = httpx.post(url + "/v1/conversations", json={"items": items[:1], "metadata": {"k": "v"}}, timeout=30)
        assert made.status_code == 200, made.text
        conversation = made.json()["id"]
        more = httpx.post(f"{url}/v1/conversations/{conversation}/items", json={"items": items[1:]}, timeout=30)
        assert more.status_code == 200
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Write a very long story about a dragon."}],
            "max_tokens": 4000,
            "stream": True,
        }
        with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=120) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if '"content":"' in line.replace(" ", "") and '"content":""' not in line.replace(" ", ""):
                    break  # the model is generating: the run is recorded as running
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
    assert process.returncode == -signal.SIGKILL

    store = open_store(db)
    try:
        (running,) = store.list_runs("local")
        assert running.status == "running" and running.kind == "chat.completion"
    finally:
        store.close()

    with rixin_serve(db, log) as (_, url):
        got = httpx.get(f"{url}/v1/conversations/{conversation}", timeout=30)
        assert got.status_code == 200 and got.json()["metadata"] == {"k": "v"}
        listed = httpx.get(f"{url}/v1/conversations/{conversation}/items", params={"order": "asc"}, timeout=30)
        texts = [item["content"][0]["text"] for item in listed.json()["data"]]
        assert texts == ["记住这句话", "好的"]
        store = open_store(db)
        try:
            run = store.get_run("local", running.id)
            assert run is not None and run.status == "failed" and run.error == INTERRUPTED
            assert [e.type for e in store.list_events("local", run.id)] == ["run.started", "run.failed"]
        finally:
            store.close()
