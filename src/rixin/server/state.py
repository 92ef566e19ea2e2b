"""What every request handler reaches: the model, the store, the queue and the worker threads."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import cast

from fastapi import Request

from rixin.models import ChatModel
from rixin.server.errors import APIError
from rixin.server.queue import GenerationQueue
from rixin.server.settings import ServerSettings
from rixin.store import Store


@dataclass
class ServerState:
    settings: ServerSettings
    model: ChatModel
    store: Store
    queue: GenerationQueue
    executor: ThreadPoolExecutor
    remote: bool
    """True when the model is an OpenAI-compatible endpoint (several generations at once)."""
    started_at: float = field(default_factory=time.time)
    approvals_lock: threading.Lock = field(default_factory=threading.Lock)
    """Serializes decisions on approvals (read, check, write of the stored response that holds them)."""
    background: set[asyncio.Task[None]] = field(default_factory=set)
    """Responses that continue approved calls, running without a client waiting (kept until they end)."""

    @property
    def model_id(self) -> str:
        return self.model.name

    def check_model(self, requested: str) -> None:
        if requested != self.model_id:
            raise APIError(
                404,
                f"The model `{requested}` does not exist or you do not have access to it. "
                f"This server serves `{self.model_id}`.",
                param="model",
                code="model_not_found",
            )


def get_state(request: Request) -> ServerState:
    return cast(ServerState, request.app.state.rixin)
