"""Concurrency: one generation at a time for an embedded model, a fair bounded line (429 + Retry-After when
full), disconnects that cancel, health and models never blocked, remote endpoints called concurrently."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import openai
import pytest

from rixin.server import ServerSettings
from rixin.store import Store, open_store

from .helpers import FakeModel, RunningServer, serve_in_thread

if TYPE_CHECKING:
    from rixin.calling import Engine

BODY: dict[str, Any] = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def health(server: RunningServer) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(server.url + "/health", timeout=5).json()
    return body


@pytest.fixture
def store(tmp_db: str) -> Iterator[Store]:
    opened = open_store(tmp_db)
    yield opened
    opened.close()


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(target())
        except BaseException as error:
            out.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def chat(server: RunningServer, content: str = "hi", timeout: float = 30) -> httpx.Response:
    body = {**BODY, "messages": [{"role": "user", "content": content}]}
    return httpx.post(server.v1 + "/chat/completions", json=body, timeout=timeout)


def test_queue_full_is_429_with_retry_after(store: Store) -> None:
    model = FakeModel(gate=threading.Event())
    settings = ServerSettings(no_auth=True, queue_size=1, retry_after_s=3)
    with serve_in_thread(settings, model=model, store=store) as server:
        first, first_out = in_thread(lambda: chat(server, "first"))
        wait_until(model.started.is_set)
        second, second_out = in_thread(lambda: chat(server, "second"))
        wait_until(lambda: health(server)["waiting"] == 1)
        client = openai.OpenAI(base_url=server.v1, api_key="none", max_retries=0)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "third"}])
        assert caught.value.response.headers["retry-after"] == "3"
        assert caught.value.status_code == 429
        stream = httpx.post(server.v1 + "/chat/completions", json={**BODY, "stream": True}, timeout=10)
        assert stream.status_code == 429 and stream.json()["error"]["code"] == "rate_limit_exceeded"
        assert model.gate is not None
        model.gate.set()
        first.join(10)
        second.join(10)
        assert [r.status_code for r in first_out + second_out] == [200, 200]
        assert model.calls == ["first", "second"]
        assert model.most_active == 1


def test_waiting_requests_are_served_first_come_first_served(store: Store) -> None:
    model = FakeModel(gate=threading.Event())
    with serve_in_thread(ServerSettings(no_auth=True, queue_size=8), model=model, store=store) as server:
        threads = []
        for index in range(5):
            thread, _ = in_thread(lambda i=index: chat(server, f"request {i}"))  # type: ignore[misc]
            threads.append(thread)
            if index == 0:
                wait_until(model.started.is_set)
            else:
                wait_until(lambda i=index: health(server)["waiting"] == i)  # type: ignore[misc]
        assert model.gate is not None
        model.gate.set()
        for thread in threads:
            thread.join(10)
        assert model.calls == [f"request {i}" for i in range(5)]
        assert model.most_active == 1


def test_health_and_models_answer_during_a_long_generation(store: Store) -> None:
    model = FakeModel(gate=threading.Event())
    with serve_in_thread(ServerSettings(no_auth=True), model=model, store=store) as server:
        busy, _ = in_thread(lambda: chat(server))
        wait_until(model.started.is_set)
        # the generation is held by the gate until the end, so any answer here proves it does not block
        assert health(server)["generating"] == 1
        models = httpx.get(server.v1 + "/models", timeout=5)
        assert models.status_code == 200 and models.json()["data"][0]["id"] == "fake-model"
        assert busy.is_alive()
        assert model.gate is not None
        model.gate.set()
        busy.join(10)


def test_disconnect_cancels_a_streaming_generation(store: Store) -> None:
    model = FakeModel(pieces=["tick "] * 400, delay=0.02)
    with serve_in_thread(ServerSettings(no_auth=True), model=model, store=store) as server:
        with httpx.stream("POST", server.v1 + "/chat/completions", json={**BODY, "stream": True}) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert next(lines).startswith("data: ")
            completion_id = httpx.Response(200, content=next(lines)[6:] or "{}").json().get("id")
        wait_until(model.cancelled.is_set, timeout=5)
        run = store.list_runs("local")[0]
        wait_until(lambda: (store.get_run("local", run.id) or run).status == "cancelled", timeout=5)
        assert completion_id is None or completion_id == run.id
        assert health(server)["generating"] == 0
        model.pieces = ["ok"]
        assert chat(server).json()["choices"][0]["message"]["content"] == "ok"


def test_disconnect_cancels_a_non_streaming_generation(store: Store) -> None:
    model = FakeModel(pieces=["tick "] * 400, delay=0.02)
    with serve_in_thread(ServerSettings(no_auth=True), model=model, store=store) as server:
        with pytest.raises(httpx.ReadTimeout):
            chat(server, timeout=0.5)
        wait_until(model.cancelled.is_set, timeout=5)
        wait_until(lambda: store.list_runs("local")[0].status == "cancelled", timeout=5)


def test_a_client_that_leaves_the_line_frees_its_place(store: Store) -> None:
    model = FakeModel(gate=threading.Event())
    with serve_in_thread(ServerSettings(no_auth=True, queue_size=1), model=model, store=store) as server:
        busy, busy_out = in_thread(lambda: chat(server, "busy"))
        wait_until(model.started.is_set)
        with pytest.raises(httpx.ReadTimeout):
            chat(server, "impatient", timeout=0.5)
        wait_until(lambda: health(server)["waiting"] == 0, timeout=5)
        patient, patient_out = in_thread(lambda: chat(server, "patient"))
        wait_until(lambda: health(server)["waiting"] == 1)
        assert model.gate is not None
        model.gate.set()
        busy.join(10)
        patient.join(10)
        assert [r.status_code for r in busy_out + patient_out] == [200, 200]
        assert model.calls == ["busy", "patient"]  # the one that left was never generated


def test_remote_endpoints_are_called_concurrently(store: Store, tmp_path: Any) -> None:
    """A rixin server whose model is another OpenAI-compatible server (`--model URL#NAME`) sends requests to it
    at once: four clients, four generations in flight upstream."""
    upstream_model = FakeModel(gate=threading.Event(), pieces=["up", "stream"])
    upstream_store = open_store(f"sqlite:///{tmp_path / 'upstream.db'}")
    try:
        upstream_settings = ServerSettings(no_auth=True, concurrency=8)
        with serve_in_thread(upstream_settings, model=upstream_model, store=upstream_store) as upstream:
            front_settings = ServerSettings(no_auth=True, model=f"{upstream.v1}#fake-model")
            with serve_in_thread(front_settings, store=store) as front:
                assert front.app.state.rixin.remote and front.app.state.rixin.queue.slots == 8
                threads = [in_thread(lambda i=i: chat(front, f"c{i}")) for i in range(4)]  # type: ignore[misc]
                wait_until(lambda: upstream_model.active == 4, timeout=20)
                assert upstream_model.gate is not None
                upstream_model.gate.set()
                for thread, out in threads:
                    thread.join(20)
                    assert out[0].status_code == 200
                    assert out[0].json()["choices"][0]["message"]["content"] == "upstream"
                assert upstream_model.most_active == 4
    finally:
        upstream_store.close()


@pytest.mark.model
def test_disconnect_stops_the_embedded_model(smol_engine: Engine, store: Store) -> None:
    """On the real llama.cpp runtime: the exception raised from `on_text` unwinds the generation, the model is
    free for the next request at once, and the run is recorded as cancelled."""
    with serve_in_thread(ServerSettings(no_auth=True), model=smol_engine, store=store) as server:
        body = {
            "model": "smollm2-135m",
            "messages": [{"role": "user", "content": "Write a very long story about a dragon."}],
            "max_tokens": 2000,
            "stream": True,
        }
        with httpx.stream("POST", server.v1 + "/chat/completions", json=body, timeout=60) as response:
            lines = [line for line, _ in zip(response.iter_lines(), range(6), strict=False)]
            assert all(line.startswith("data: ") or not line for line in lines)
        wait_until(lambda: store.list_runs("local")[0].status == "cancelled", timeout=20)
        events = store.list_events("local", store.list_runs("local")[0].id)
        assert [e.type for e in events] == ["run.started", "run.cancelled"]
        started = time.monotonic()
        short = {**body, "max_tokens": 2, "stream": False}
        assert httpx.post(server.v1 + "/chat/completions", json=short, timeout=60).status_code == 200
        assert time.monotonic() - started < 20
