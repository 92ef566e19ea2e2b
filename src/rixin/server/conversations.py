"""`/v1/conversations` (OpenAI's Conversations API shape): create with items and metadata, get, update, delete,
list and append items; each key sees only its own. `GET /v1/conversations` lists them (a rixin addition)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rixin.server.auth import Owner
from rixin.server.errors import not_found
from rixin.server.items import ItemList, canonical
from rixin.server.state import get_state
from rixin.store import Conversation, ConversationItem, NotFoundError

router = APIRouter()
Metadata = Annotated[dict[str, str], Field(max_length=16)]


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    items: ItemList | None = None
    metadata: Metadata | None = None


class UpdateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    metadata: Metadata


class AddItems(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    items: ItemList


def conversation_object(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "object": "conversation",
        "created_at": int(conversation.created_at),
        "metadata": conversation.metadata,
    }


def item_object(item: ConversationItem) -> dict[str, Any]:
    return {key: value for key, value in item.data.items() if not key.startswith("rixin_")} | {"id": item.id}


def item_list(items: list[ConversationItem], has_more: bool = False) -> dict[str, Any]:
    data = [item_object(item) for item in items]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": has_more}


def _missing(conversation_id: str) -> Exception:
    return not_found(
        f"Conversation with id '{conversation_id}' not found.", "conversation_id", "conversation_not_found"
    )


@router.post("/v1/conversations", summary="Create a conversation")
async def create_conversation(body: CreateConversation, request: Request, owner: Owner) -> dict[str, Any]:
    items = [canonical(item) for item in body.items or []]
    store = get_state(request).store
    conversation, _ = await run_in_threadpool(store.create_conversation, owner, body.metadata or {}, items)
    return conversation_object(conversation)


@router.get("/v1/conversations", summary="List conversations, most recently updated first")
async def list_conversations(
    request: Request, owner: Owner, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    found = await run_in_threadpool(get_state(request).store.list_conversations, owner, limit=limit)
    return {"object": "list", "data": [conversation_object(c) for c in found], "has_more": len(found) == limit}


@router.get("/v1/conversations/{conversation_id}", summary="Retrieve a conversation")
async def get_conversation(conversation_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    found = await run_in_threadpool(get_state(request).store.get_conversation, owner, conversation_id)
    if found is None:
        raise _missing(conversation_id)
    return conversation_object(found)


@router.post("/v1/conversations/{conversation_id}", summary="Update a conversation's metadata")
async def update_conversation(
    conversation_id: str, body: UpdateConversation, request: Request, owner: Owner
) -> dict[str, Any]:
    try:
        updated = await run_in_threadpool(
            get_state(request).store.update_conversation, owner, conversation_id, body.metadata
        )
    except NotFoundError:
        raise _missing(conversation_id) from None
    return conversation_object(updated)


@router.delete("/v1/conversations/{conversation_id}", summary="Delete a conversation and its items")
async def delete_conversation(conversation_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    if not await run_in_threadpool(get_state(request).store.delete_conversation, owner, conversation_id):
        raise _missing(conversation_id)
    return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


@router.get("/v1/conversations/{conversation_id}/items", summary="List a conversation's items")
async def list_items(
    conversation_id: str,
    request: Request,
    owner: Owner,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
) -> dict[str, Any]:
    store = get_state(request).store
    try:
        items = await run_in_threadpool(
            store.list_items, owner, conversation_id, order=order, limit=limit + 1, after=after
        )
    except NotFoundError:
        raise _missing(conversation_id) from None
    return item_list(items[:limit], len(items) > limit)


@router.post("/v1/conversations/{conversation_id}/items", summary="Add items to a conversation")
async def add_items(conversation_id: str, body: AddItems, request: Request, owner: Owner) -> dict[str, Any]:
    items = [canonical(item) for item in body.items]
    try:
        added = await run_in_threadpool(get_state(request).store.add_items, owner, conversation_id, items)
    except NotFoundError:
        raise _missing(conversation_id) from None
    return item_list(added)
