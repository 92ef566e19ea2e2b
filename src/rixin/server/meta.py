"""`GET /health` and `GET /v1/models`: never wait for the model (they do not touch the generation queue)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from rixin.server.auth import Owner
from rixin.server.errors import not_found
from rixin.server.state import ServerState, get_state

router = APIRouter()


def _model(state: ServerState) -> dict[str, Any]:
    return {"id": state.model_id, "object": "model", "created": int(state.started_at), "owned_by": "rixin"}


@router.get("/health", summary="Liveness and queue state (no key needed)")
async def health(request: Request) -> dict[str, Any]:
    state = get_state(request)
    return {
        "status": "ok",
        "model": state.model_id,
        "generating": state.queue.busy,
        "waiting": state.queue.waiting,
        "queue_size": state.queue.max_waiting,
    }


@router.get("/v1/models", summary="The served model")
async def list_models(request: Request, _owner: Owner) -> dict[str, Any]:
    return {"object": "list", "data": [_model(get_state(request))]}


@router.get("/v1/models/{model}", summary="One model")
async def get_model(model: str, request: Request, _owner: Owner) -> dict[str, Any]:
    state = get_state(request)
    if model != state.model_id:
        raise not_found(f"The model `{model}` does not exist.", "model", "model_not_found")
    return _model(state)
