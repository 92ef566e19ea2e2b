"""Where the data lives: database URLs, engines (SQLite in WAL mode, PostgreSQL through psycopg 3), migrations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rixin.errors import RixinError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(RixinError):
    """The store cannot be opened or used (a bad URL, an unreachable server, a failed migration)."""


def default_db_path() -> Path:
    """`$XDG_DATA_HOME/rixin/rixin.db`, by default `~/.local/share/rixin/rixin.db`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "rixin" / "rixin.db"


def database_url(db: str | None = None) -> str:
    """A `--db` value as a SQLAlchemy URL: None → the default SQLite file; a plain path → SQLite at that path;
    `postgresql://…` → `postgresql+psycopg://…` (psycopg 3 is the driver rixin ships with)."""
    if not db:
        return f"sqlite:///{default_db_path()}"
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    for plain in ("postgresql://", "postgres://"):
        if db.startswith(plain):
            return "postgresql+psycopg://" + db[len(plain) :]
    return db


def create_db_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"cannot read the database URL {url!r}: {error}") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise StoreError(f"unsupported database {backend!r} in {url!r}: use sqlite:///PATH or postgresql+psycopg://…")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL: readers never wait for the writer; synchronous=FULL: a committed transaction survives a crash of the
    process and of the machine; foreign keys on, so deleting a row deletes what hangs on it."""
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
    finally:
        cursor.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (`alembic upgrade head`), on this engine."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
