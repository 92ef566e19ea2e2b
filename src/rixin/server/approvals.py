"""`/v1/approvals`: code-interpreter calls waiting for a person. A response whose tools say
`"require_approval": "always"` pauses at its code calls (status `incomplete`, reason `approval_required`, one
`approval_request` item per call); here a key lists its pending approvals and decides each one. When the last of a
response's requests is decided, the response that continues it starts at once (chained with
`previous_response_id`, or in the same conversation): approved calls run, denied ones reach the model as "denied
by the user". The same answers can instead come as `approval_response` input items of a new response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rixin.server import approvals_book as book
from rixin.server.auth import Owner
from rixin.server.errors import APIError
from rixin.server.responses import continue_in_background
from rixin.server.state import get_state

router = APIRouter()


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    approve: bool
    reason: str | None = Field(default=None, max_length=2000)


@router.get("/v1/approvals", summary="List the key's pending approvals, oldest first")
async def list_approvals(
    request: Request, owner: Owner, response_id: Annotated[str | None, Query(max_length=100)] = None
) -> dict[str, Any]:
    data = await run_in_threadpool(book.list_pending, get_state(request).store, owner, response_id)
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": False}


@router.get("/v1/approvals/{approval_id}", summary="Retrieve an approval (pending or decided)")
async def get_approval(approval_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    record, item = await run_in_threadpool(book.find, get_state(request).store, owner, approval_id)
    return book.approval_object(record, item)


@router.post("/v1/approvals/{approval_id}", summary="Approve or deny a pending call")
async def decide_approval(approval_id: str, body: Decision, request: Request, owner: Owner) -> dict[str, Any]:
    """Records the decision (404: unknown id; 409: already decided). When it was the response's last pending
    one, the continuing response is queued and `continued_response_id` names it (poll `GET /v1/responses/{id}`);
    a response that also called client functions is continued by the client, with their outputs."""
    state = get_state(request)
    record, item = await run_in_threadpool(
        book.decide, state.store, state.approvals_lock, owner, approval_id, body.approve, body.reason
    )
    result = book.approval_object(record, item)
    if book.ready_to_continue(record):
        try:
            result["continued_response_id"] = await continue_in_background(state, owner, record)
        except APIError as error:  # the decision stands; the client can continue with previous_response_id
            result["continuation_error"] = error.body()["error"]
    return result
