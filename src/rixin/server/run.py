"""Serving the app with uvicorn."""

from __future__ import annotations

import logging

from rixin.server.app import create_app
from rixin.server.settings import ServerSettings

log = logging.getLogger("rixin.server")


def serve(settings: ServerSettings) -> None:
    """Run the server until interrupted (blocking)."""
    import uvicorn

    settings.check()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    app = create_app(settings)
    state = app.state.rixin
    if settings.no_auth:
        log.warning("no-auth mode: requests without a key are served (bound to %s only)", settings.host)
    elif not state.store.list_keys():
        log.warning("no API keys yet: every request will get 401. Create one with `rixin keys create NAME`.")
    log.info("serving %s on http://%s:%d/v1 (store: %s)", state.model_id, settings.host, settings.port, state.store.url)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=5)
