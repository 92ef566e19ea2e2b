"""One conformance suite for the store, run on both backends: a SQLite file and a real PostgreSQL server.

Every test gets a fresh database (see conftest.py), migrated by `open_store` exactly as the server does it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from rixin.store import (
    INTERRUPTED,
    AmbiguousKeyError,
    NotFoundError,
    Store,
    current_revision,
    hash_secret,
    open_store,
)

ALICE, BOB = "key_alice", "key_bob"


def test_migrations_reach_head_and_are_idempotent(store: Store, db_url: str) -> None:
    assert current_revision(store.engine) == "0001"
    tables = set(inspect(store.engine).get_table_names())
    assert {"api_keys", "files", "file_blobs", "conversations", "conversation_items", "responses"} <= tables
    assert {"runs", "run_events", "alembic_version"} <= tables
    again = open_store(db_url)  # a second start migrates nothing and loses nothing
    try:
        assert current_revision(again.engine) == "0001"
    finally:
        again.close()


def test_backend_is_the_one_asked_for(store: Store, db_url: str) -> None:
    assert store.backend == db_url.split(":", 1)[0].split("+", 1)[0]


# -- API keys -----------------------------------------------------------------------------------------------
def test_keys_are_stored_hashed(store: Store) -> None:
    key, secret = store.create_key("ci")
    assert secret.startswith("rx-") and len(secret) > 40
    assert key.prefix == secret[:10] and key.active
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT secret_hash, prefix FROM api_keys").all()
    assert rows == [(hash_secret(secret), key.prefix)]
    assert all(secret not in str(value) for row in rows for value in row)


def test_authenticate_and_revoke(store: Store) -> None:
    key, secret = store.create_key("one")
    other, other_secret = store.create_key("two")
    assert store.authenticate(secret) == key
    assert store.authenticate(secret + "x") is None
    assert store.authenticate("") is None
    revoked = store.revoke_key(key.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert store.authenticate(secret) is None
    assert store.authenticate(other_secret) == other
    assert store.revoke_key(other.prefix).id == other.id  # by prefix
    assert [k.active for k in store.list_keys()] == [False, False]


def test_revoke_unknown_or_ambiguous(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = iter(["AAAAone" + "x" * 36, "AAAAtwo" + "y" * 36])
    monkeypatch.setattr("rixin.store.keys.secrets.token_urlsafe", lambda _n: next(secrets))
    first, _ = store.create_key("a")
    store.create_key("b")
    with pytest.raises(NotFoundError):
        store.revoke_key("key_nope")
    with pytest.raises(NotFoundError):
        store.revoke_key("rx-")  # too short to be a prefix
    with pytest.raises(NotFoundError):
        store.revoke_key("rx-A%")  # a LIKE wildcard is a literal character
    with pytest.raises(AmbiguousKeyError):
        store.revoke_key("rx-AAAA")
    assert all(k.active for k in store.list_keys())
    assert store.revoke_key("rx-AAAAo").id == first.id


def test_revoke_by_whole_key(store: Store) -> None:
    key, secret = store.create_key("whole")
    assert store.revoke_key(secret).id == key.id


# -- files --------------------------------------------------------------------------------------------------
def test_files_roundtrip_bytes_exactly(store: Store) -> None:
    data = bytes(range(256)) * 1000 + "日新\n".encode()
    info = store.add_file(ALICE, "数据.bin", "assistants", data)
    assert info.id.startswith("file-") and info.bytes == len(data) and info.filename == "数据.bin"
    assert store.get_file(ALICE, info.id) == info
    assert store.read_file(ALICE, info.id) == data
    assert store.add_file(ALICE, "empty", "user_data", b"").bytes == 0


def test_files_list_order_purpose_and_paging(store: Store) -> None:
    made = [store.add_file(ALICE, f"f{i}.txt", "assistants" if i % 2 else "batch", b"x" * i) for i in range(5)]
    newest_first = [f.id for f in store.list_files(ALICE)]
    assert newest_first == [f.id for f in reversed(made)]
    assert [f.id for f in store.list_files(ALICE, order="asc")] == [f.id for f in made]
    assert {f.purpose for f in store.list_files(ALICE, purpose="batch")} == {"batch"}
    assert [f.id for f in store.list_files(ALICE, limit=2)] == newest_first[:2]
    assert [f.id for f in store.list_files(ALICE, after=newest_first[1], limit=2)] == newest_first[2:4]


def test_files_are_private_to_their_owner(store: Store) -> None:
    info = store.add_file(ALICE, "secret.txt", "assistants", b"alice's")
    assert store.get_file(BOB, info.id) is None
    assert store.read_file(BOB, info.id) is None
    assert store.list_files(BOB) == []
    assert store.delete_file(BOB, info.id) is False
    assert store.read_file(ALICE, info.id) == b"alice's"


def test_file_delete(store: Store) -> None:
    info = store.add_file(ALICE, "gone.txt", "assistants", b"bye")
    assert store.delete_file(ALICE, info.id) is True
    assert store.get_file(ALICE, info.id) is None
    assert store.read_file(ALICE, info.id) is None
    assert store.delete_file(ALICE, info.id) is False
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM file_blobs").scalar() == 0


# -- conversations ------------------------------------------------------------------------------------------
def test_conversation_items_keep_order_and_content(store: Store) -> None:
    first = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "你好"}]}]
    conversation, items = store.create_conversation(ALICE, {"topic": "greeting"}, first)
    assert conversation.metadata == {"topic": "greeting"} and len(items) == 1
    more = [
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"{i}"}]}
        for i in range(12)
    ]
    store.add_items(ALICE, conversation.id, more)
    listed = store.list_items(ALICE, conversation.id)
    assert [i.data["role"] for i in listed] == ["user"] + ["assistant"] * 12
    assert [i.data["content"][0]["text"] for i in listed[1:]] == [str(i) for i in range(12)]
    assert listed[0].data["content"][0]["text"] == "你好"
    assert all(item.data["id"] == item.id for item in listed)
    assert [i.id for i in store.list_items(ALICE, conversation.id, order="desc", limit=2)] == [
        listed[-1].id,
        listed[-2].id,
    ]
    assert [i.id for i in store.list_items(ALICE, conversation.id, after=listed[10].id)] == [
        listed[11].id,
        listed[12].id,
    ]


def test_conversations_are_private_and_deletable(store: Store) -> None:
    conversation, _ = store.create_conversation(ALICE, {}, [{"role": "user", "content": "hi"}])
    assert store.get_conversation(BOB, conversation.id) is None
    with pytest.raises(NotFoundError):
        store.list_items(BOB, conversation.id)
    with pytest.raises(NotFoundError):
        store.add_items(BOB, conversation.id, [{"role": "user", "content": "intrusion"}])
    assert store.delete_conversation(BOB, conversation.id) is False
    assert [c.id for c in store.list_conversations(ALICE)] == [conversation.id]
    updated = store.update_conversation(ALICE, conversation.id, {"title": "t"})
    assert updated.metadata == {"title": "t"}
    assert store.delete_conversation(ALICE, conversation.id) is True
    assert store.get_conversation(ALICE, conversation.id) is None
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM conversation_items").scalar() == 0


def test_recently_updated_conversation_comes_first(store: Store) -> None:
    old, _ = store.create_conversation(ALICE)
    new, _ = store.create_conversation(ALICE)
    assert [c.id for c in store.list_conversations(ALICE)] == [new.id, old.id]
    store.add_items(ALICE, old.id, [{"role": "user", "content": "again"}])
    assert [c.id for c in store.list_conversations(ALICE, limit=1)] == [old.id]


# -- runs, events, responses --------------------------------------------------------------------------------
def test_run_lifecycle_and_events(store: Store) -> None:
    run = store.start_run(ALICE, "chat.completion", run_id="chatcmpl-1", data={"model": "m"})
    assert run.status == "running" and run.id == "chatcmpl-1"
    store.add_event(run.id, "text.delta", {"text": "你"})
    done = store.finish_run(run.id, "completed", data={"finish_reason": "stop"})
    assert done.status == "completed" and done.finished_at is not None
    events = store.list_events(ALICE, run.id)
    assert [e.type for e in events] == ["run.started", "text.delta", "run.completed"]
    assert events[0].data == {"model": "m"} and events[1].data == {"text": "你"}
    assert store.get_run(BOB, run.id) is None
    with pytest.raises(NotFoundError):
        store.list_events(BOB, run.id)
    with pytest.raises(ValueError):
        store.finish_run(run.id, "running")


def test_interrupted_runs_are_marked_failed(store: Store) -> None:
    left = store.start_run(ALICE, "response", response_id="resp_1")
    store.save_response(ALICE, "resp_1", status="in_progress", model="m", body={"id": "resp_1"}, input=[])
    finished = store.start_run(ALICE, "chat.completion")
    store.finish_run(finished.id, "completed")
    assert store.fail_interrupted_runs() == 1
    failed = store.get_run(ALICE, left.id)
    assert failed is not None and failed.status == "failed" and failed.error == INTERRUPTED
    assert store.list_events(ALICE, left.id)[-1].type == "run.failed"
    completed = store.get_run(ALICE, finished.id)
    assert completed is not None and completed.status == "completed"
    response = store.get_response(ALICE, "resp_1")
    assert response is not None and response.status == "failed"
    assert store.fail_interrupted_runs() == 0
    assert [r.id for r in store.list_runs(ALICE, status="failed")] == [left.id]


def test_responses_roundtrip_and_privacy(store: Store) -> None:
    body = {"id": "resp_a", "object": "response", "output": [{"type": "message", "content": [{"text": "答"}]}]}
    saved = store.save_response(
        ALICE, "resp_a", status="completed", model="m", body=body, input=[{"role": "user", "content": "问"}]
    )
    assert saved.body == body and saved.input == [{"role": "user", "content": "问"}]
    follow = store.save_response(
        ALICE, "resp_b", status="in_progress", model="m", body={}, input=[], previous_response_id="resp_a"
    )
    assert follow.previous_response_id == "resp_a"
    store.save_response(ALICE, "resp_b", status="completed", model="m", body={"done": True}, input=[])
    got = store.get_response(ALICE, "resp_b")
    assert got is not None and got.status == "completed" and got.body == {"done": True}
    assert store.get_response(BOB, "resp_a") is None
    with pytest.raises(NotFoundError):
        store.save_response(BOB, "resp_a", status="completed", model="m", body={}, input=[])
    assert store.delete_response(BOB, "resp_a") is False
    assert store.delete_response(ALICE, "resp_a") is True
    assert store.get_response(ALICE, "resp_a") is None


def test_concurrent_writers(store: Store) -> None:
    """Threads writing at once (as the server's workers do) lose nothing."""
    conversation, _ = store.create_conversation(ALICE)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                store.add_items(ALICE, conversation.id, [{"role": "user", "content": f"{n}-{i}"}])
                store.add_file(ALICE, f"{n}-{i}", "assistants", b"x")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.list_items(ALICE, conversation.id)) == 40
    assert len(store.list_files(ALICE)) == 40


def test_committed_data_survives_reopening(store: Store, db_url: str) -> None:
    conversation, _ = store.create_conversation(ALICE, {"k": 1}, [{"role": "user", "content": "keep me"}])
    store.close()
    reopened = open_store(db_url)
    try:
        items = reopened.list_items(ALICE, conversation.id)
        assert [i.data["content"] for i in items] == ["keep me"]
    finally:
        reopened.close()
