"""The server on PostgreSQL: the same requests as on SQLite, through `--db postgresql+psycopg://…`."""

from __future__ import annotations

import openai

from rixin.server import ServerSettings
from rixin.store import open_store
from server.helpers import FakeModel, serve_in_thread

from .postgres import PostgresServer


def test_server_with_a_postgresql_store(postgres_server: PostgresServer) -> None:
    postgres_server.execute("CREATE DATABASE server_smoke")
    url = postgres_server.url("server_smoke")
    try:
        keys = open_store(url)
        _, secret = keys.create_key("pg")
        keys.close()
        with serve_in_thread(ServerSettings(db=url), model=FakeModel()) as server:
            client = openai.OpenAI(base_url=server.v1, api_key=secret, max_retries=0)
            completion = client.chat.completions.create(
                model="fake-model", messages=[{"role": "user", "content": "hi"}]
            )
            assert completion.choices[0].message.content == "Hello, world!"
            data = bytes(range(256)) * 64
            uploaded = client.files.create(file=("blob.bin", data), purpose="user_data")
            assert client.files.content(uploaded.id).content == data
            state = server.app.state.rixin
            assert state.store.backend == "postgresql"
            run = state.store.get_run(state.store.authenticate(secret).id, completion.id)
            assert run is not None and run.status == "completed"
    finally:
        postgres_server.execute("DROP DATABASE IF EXISTS server_smoke WITH (FORCE)")
