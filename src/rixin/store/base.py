"""The store's shared plumbing: one SQLAlchemy engine, short transactions, identifiers and clocks."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from rixin.store.database import StoreError


class NotFoundError(StoreError):
    """No such record for this owner (records of other owners are never revealed)."""


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def now() -> float:
    return time.time()


class StoreBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def backend(self) -> str:
        """The backend's name: sqlite or postgresql."""
        return self.engine.url.get_backend_name()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as error:
            raise StoreError(f"database error ({self.url}): {error.orig}") from error

    def close(self) -> None:
        self.engine.dispose()
