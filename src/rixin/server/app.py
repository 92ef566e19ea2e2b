"""`create_app(settings)`: the FastAPI application. Nothing is read from the environment at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rixin import __version__
from rixin.models import ChatModel
from rixin.server import approvals, chat, conversations, files, meta, responses
from rixin.server.errors import APIError, install_error_handlers
from rixin.server.limits import BodySizeLimit
from rixin.server.queue import GenerationQueue, QueueFullError
from rixin.server.settings import ServerSettings
from rixin.server.state import ServerState
from rixin.server.ui import install_ui
from rixin.store import Store, open_store

log = logging.getLogger("rixin.server")
ENDPOINT_CONCURRENCY = 8

DESCRIPTION = """An OpenAI-compatible API over rixin's function-calling engine: every tool call the model makes
is generated under the tools' JSON Schemas, validated, and repaired before it is returned. Send
`Authorization: Bearer <key>` (keys: `rixin keys create NAME`) unless the server runs with `--no-auth`."""


def load_chat_model(settings: ServerSettings) -> tuple[ChatModel, bool]:
    """The engine over the model `settings.model` names, and whether it is a remote endpoint."""
    from rixin.calling import open_model
    from rixin.models import EndpointModel

    options: dict[str, Any] = {"n_threads": settings.threads} if settings.threads else {}
    engine = open_model(settings.model, None, **options)
    return engine, isinstance(engine.model, EndpointModel)


def create_app(
    settings: ServerSettings | None = None,
    *,
    model: ChatModel | None = None,
    store: Store | None = None,
    remote: bool | None = None,
) -> FastAPI:
    """The app for `settings`. `model` and `store` replace the ones the settings name (tests, embedding);
    `remote` says whether `model` is an endpoint (several generations at once)."""
    settings = settings or ServerSettings()
    settings.check()
    own_store = store is None
    store = store or open_store(settings.db)
    interrupted = store.fail_interrupted_runs()
    if interrupted:
        log.warning("marked %d interrupted run(s) as failed", interrupted)
    if model is None:
        model, remote = load_chat_model(settings)
    remote = bool(remote)
    slots = settings.concurrency or (ENDPOINT_CONCURRENCY if remote else 1)
    executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="rixin-generate")
    state = ServerState(settings, model, store, GenerationQueue(slots, settings.queue_size), executor, remote)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        pending = list(state.background)  # continuations of approved calls, still waiting or running
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        executor.shutdown(wait=False, cancel_futures=True)
        if own_store:
            store.close()

    app = FastAPI(title="rixin", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.rixin = state
    install_error_handlers(app)

    @app.exception_handler(QueueFullError)
    async def queue_full(_request: Request, _error: QueueFullError) -> JSONResponse:
        wait = settings.retry_after_s
        return APIError(
            429,
            f"The model is busy: {state.queue.waiting} requests are already waiting. Retry after {wait} s.",
            code="rate_limit_exceeded",
            type="requests",
            headers={"Retry-After": str(wait)},
        ).response()

    for router in (meta.router, chat.router, files.router, conversations.router, responses.router, approvals.router):
        app.include_router(router)
    install_ui(app)
    app.add_middleware(BodySizeLimit, default=settings.max_body_bytes, limits={"/v1/files": settings.max_file_bytes})
    return app
