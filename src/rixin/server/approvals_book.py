"""Approvals of code-interpreter calls, kept where they were asked: in the stored response that paused.

A response whose code calls need a person ends `incomplete` (reason `approval_required`) with one
`approval_request` output item per call; its id (`apr_<response id>_<n>`) names that response. A decision (from
`POST /v1/approvals/{id}` or an `approval_response` input item) is written into the item (private `rixin_…` keys,
never served), and so is the id of the response that continued it. The stored row's status (an index column the
API never shows) is `requires_action` while the response waits, so a key's pending approvals are one query away
and survive a restart. Decisions are read, checked and written under one lock (one server process)."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rixin.server.errors import APIError, bad_request, not_found
from rixin.server.items import approval_key
from rixin.store import NotFoundError, ResponseRecord, Store
from rixin.store.tables import ResponseRow

PAUSED = "requires_action"
"""The stored status of a response waiting for decisions (its body says `incomplete`)."""
_ID = re.compile(r"apr_([0-9a-f]{1,48})_([0-9]{1,4})")


def response_of(approval_id: str) -> str | None:
    """The id of the response that asked (None: not an approval id)."""
    match = _ID.fullmatch(approval_id)
    return f"resp_{match[1]}" if match else None


def requests_of(record: ResponseRecord) -> list[dict[str, Any]]:
    output = record.body.get("output") or []
    return [item for item in output if isinstance(item, dict) and item.get("type") == "approval_request"]


def missing(approval_id: str, param: str = "approval_id") -> APIError:
    return not_found(f"No approval request with id '{approval_id}'.", param, "approval_not_found")


def conflict(approval_id: str, item: dict[str, Any], param: str | None = "approval_id") -> APIError:
    continued = item.get("rixin_continued_by")
    decision = item.get("rixin_decision") or {}
    if continued:
        message = f"Approval request '{approval_id}' was already answered; response '{continued}' continued it."
    else:
        how = "approved" if decision.get("approve") else "denied"
        message = f"Approval request '{approval_id}' was already decided ({how})."
    return APIError(409, message, param=param, code="approval_already_decided")


def approval_object(record: ResponseRecord, item: dict[str, Any]) -> dict[str, Any]:
    decision = item.get("rixin_decision")
    status = "pending" if decision is None else "approved" if decision.get("approve") else "denied"
    return {
        "id": approval_key(item),
        "object": "approval",
        "response_id": record.id,
        "name": item.get("name"),
        "arguments": item.get("arguments"),
        "created_at": int(item.get("rixin_created_at") or record.created_at),
        "status": status,
        "reason": (decision or {}).get("reason"),
        "decided_at": (decision or {}).get("decided_at"),
        "continued_response_id": item.get("rixin_continued_by"),
    }


def paused_response_ids(store: Store, owner: str) -> list[str]:
    """The owner's responses waiting for decisions, oldest first. (A read the store has no method for yet: it
    belongs in `Store` as `list_responses(owner, status=)`.)"""
    query = (
        select(ResponseRow.id)
        .where(ResponseRow.owner == owner, ResponseRow.status == PAUSED)
        .order_by(ResponseRow.created_at, ResponseRow.id)
    )
    with Session(store.engine) as session:
        return list(session.scalars(query))


def list_pending(store: Store, owner: str, response_id: str | None = None) -> list[dict[str, Any]]:
    """The owner's undecided approvals, oldest first (one response's when `response_id` is given)."""
    found = []
    for paused_id in paused_response_ids(store, owner):
        if response_id not in (None, paused_id):
            continue
        record = store.get_response(owner, paused_id)
        if record is not None:
            found += [approval_object(record, i) for i in requests_of(record) if i.get("rixin_decision") is None]
    return found


def find(store: Store, owner: str, approval_id: str) -> tuple[ResponseRecord, dict[str, Any]]:
    response_id = response_of(approval_id)
    record = store.get_response(owner, response_id) if response_id else None
    item = next((i for i in requests_of(record) if approval_key(i) == approval_id), None) if record else None
    if record is None or item is None:
        raise missing(approval_id)
    return record, item


def _decision(approve: bool, reason: str | None) -> dict[str, Any]:
    return {"approve": approve, "reason": reason or None, "decided_at": int(time.time())}


def _save(store: Store, record: ResponseRecord, body: dict[str, Any], status: str) -> ResponseRecord:
    return store.save_response(
        record.owner,
        record.id,
        status=status,
        model=record.model,
        body=body,
        input=record.input,
        previous_response_id=record.previous_response_id,
        conversation_id=record.conversation_id,
    )


def decide(
    store: Store, lock: threading.Lock, owner: str, approval_id: str, approve: bool, reason: str | None
) -> tuple[ResponseRecord, dict[str, Any]]:
    """Record one decision (404 for an unknown id, 409 for a decided one): the stored response and the item."""
    with lock:
        record, item = find(store, owner, approval_id)
        if item.get("rixin_decision") is not None or item.get("rixin_continued_by"):
            raise conflict(approval_id, item)
        item["rixin_decision"] = _decision(approve, reason)
        try:
            record = _save(store, record, record.body, record.status)
        except NotFoundError:  # deleted meanwhile
            raise missing(approval_id) from None
        return record, item


def ready_to_continue(record: ResponseRecord) -> bool:
    """Every request decided and none answered yet, and no calls the client must run (their outputs can only
    come from the client, with `previous_response_id`)."""
    requests = requests_of(record)
    output = record.body.get("output") or []
    return (
        bool(requests)
        and all(i.get("rixin_decision") is not None and not i.get("rixin_continued_by") for i in requests)
        and not any(isinstance(i, dict) and i.get("type") == "function_call" for i in output)
    )


@dataclass
class Resolution:
    """How a new response answers the approval requests in its context."""

    ids: list[str] = field(default_factory=list)
    """Every request it answers, in the order they were asked."""
    approved: list[dict[str, Any]] = field(default_factory=list)
    """The approved requests' items: their calls run before the model is asked."""
    given: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Decisions made by the request's own `approval_response` items, by approval id."""
    added: list[dict[str, Any]] = field(default_factory=list)
    """`approval_response` items for decisions made earlier through `/v1/approvals` (joined to the input)."""


def resolve(store: Store, owner: str, context: list[dict[str, Any]], new_items: list[dict[str, Any]]) -> Resolution:
    """Check the request's answers against the approval requests its context leaves open: each must be answered,
    by an `approval_response` input item or by a decision already made through `/v1/approvals`."""
    requests = {approval_key(i): i for i in context if i.get("type") == "approval_request"}
    answered = {str(i.get("approval_request_id")) for i in context if i.get("type") == "approval_response"}
    resolution = Resolution()
    for index, item in enumerate(new_items):
        if item.get("type") != "approval_response":
            continue
        approval_id, param = str(item["approval_request_id"]), f"input[{index}].approval_request_id"
        if approval_id not in requests:
            raise missing(approval_id, param)
        if approval_id in answered:
            raise APIError(
                409,
                f"Approval request '{approval_id}' was already answered.",
                param=param,
                code="approval_already_decided",
            )
        if approval_id in resolution.given:
            raise bad_request(f"Approval request '{approval_id}' is answered twice.", param)
        resolution.given[approval_id] = _decision(bool(item["approve"]), item.get("reason"))
    records: dict[str, ResponseRecord | None] = {}
    for approval_id, request in requests.items():
        if approval_id in answered:
            continue
        response_id = response_of(approval_id) or ""
        if response_id not in records:
            records[response_id] = store.get_response(owner, response_id)
        record = records[response_id]
        stored = next((i for i in requests_of(record) if approval_key(i) == approval_id), {}) if record else {}
        recorded, given = stored.get("rixin_decision"), resolution.given.get(approval_id)
        if stored.get("rixin_continued_by") or (recorded and given and recorded["approve"] != given["approve"]):
            raise conflict(approval_id, stored, "input")
        decision = given or recorded
        if decision is None:
            raise bad_request(
                f"Approval request '{approval_id}' is waiting for a decision: answer it with an "
                f"'approval_response' input item or POST /v1/approvals/{approval_id}.",
                "input",
                "approval_pending",
            )
        if given is None:
            resolution.added.append(
                {
                    "type": "approval_response",
                    "approval_request_id": approval_id,
                    "approve": bool(decision["approve"]),
                    **({"reason": decision["reason"]} if decision.get("reason") else {}),
                    "status": "completed",
                }
            )
        resolution.ids.append(approval_id)
        if decision["approve"]:
            resolution.approved.append(request)
    return resolution


def commit(store: Store, lock: threading.Lock, owner: str, resolution: Resolution, continued_by: str) -> None:
    """Record the decisions and which response answers them, checking again (409 when another request answered
    meanwhile). A response whose requests are all answered stops waiting."""
    by_response: dict[str, list[str]] = {}
    for approval_id in resolution.ids:
        by_response.setdefault(response_of(approval_id) or "", []).append(approval_id)
    with lock:
        for response_id, ids in by_response.items():
            record = store.get_response(owner, response_id)
            if record is None:
                continue  # deleted: its decisions travel in the input items only
            for item in requests_of(record):
                approval_id = approval_key(item)
                if approval_id not in ids:
                    continue
                recorded, given = item.get("rixin_decision"), resolution.given.get(approval_id)
                if item.get("rixin_continued_by") or (recorded and given and recorded["approve"] != given["approve"]):
                    raise conflict(approval_id, item, "input")
                item["rixin_decision"] = recorded or given
                item["rixin_continued_by"] = continued_by
            waiting = any(i.get("rixin_decision") is None for i in requests_of(record))
            status = PAUSED if waiting else str(record.body.get("status") or "incomplete")
            _save(store, record, record.body, status)
