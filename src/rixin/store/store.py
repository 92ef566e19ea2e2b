"""`Store`: the one interface to persistence, the same over SQLite and PostgreSQL."""

from __future__ import annotations

from rixin.store.conversations import ConversationsStore
from rixin.store.database import create_db_engine, database_url, upgrade
from rixin.store.files import FilesStore
from rixin.store.keys import KeysStore
from rixin.store.runs import RunsStore


class Store(KeysStore, FilesStore, ConversationsStore, RunsStore):
    """API keys, files, conversations, responses, runs and run events. Every record but a key belongs to an
    owner (a key id); reads with another owner find nothing. Methods are synchronous and thread-safe (one short
    transaction each); call them from worker threads in async code."""


def open_store(db: str | None = None, *, migrate: bool = True) -> Store:
    """Open the database a `--db` value names (see `database_url`) and bring its schema up to date."""
    engine = create_db_engine(database_url(db))
    if migrate:
        upgrade(engine)
    return Store(engine)
