"""Alembic environment: runs on the connection the store passes in `config.attributes["connection"]`, or on
`sqlalchemy.url` when run by the `alembic` command."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from rixin.store.tables import Base


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no connection and no sqlalchemy.url for the migrations")
        with create_engine(url).connect() as own:
            _migrate(own)
            own.commit()
        return
    _migrate(connection)


def _migrate(connection: object) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)  # type: ignore[arg-type]
    with context.begin_transaction():
        context.run_migrations()


run()
