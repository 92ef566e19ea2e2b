"""The OpenAI-compatible HTTP face: chat completions with tools, files, conversations, API keys, a fair queue.

`create_app(ServerSettings(...))` builds the FastAPI app; `serve(settings)` runs it with uvicorn
(`rixin serve`)."""

from rixin.server.app import create_app
from rixin.server.run import serve
from rixin.server.settings import ServerConfigError, ServerSettings

__all__ = ["ServerConfigError", "ServerSettings", "create_app", "serve"]
