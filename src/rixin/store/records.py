"""What the store hands out: plain frozen records, never database objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUN_STATUSES = ("running", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: its secret is never kept, only its sha256 and its first characters."""

    id: str
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class FileInfo:
    id: str
    owner: str
    filename: str
    purpose: str
    bytes: int
    created_at: float


@dataclass(frozen=True)
class Conversation:
    id: str
    owner: str
    created_at: float
    updated_at: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversationItem:
    """One item of a conversation (a message, a function call, its output…) as an OpenAI-shaped dict."""

    id: str
    conversation_id: str
    data: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class ResponseRecord:
    """A Responses-API response: `body` is the response object as served; `input` the items it was given."""

    id: str
    owner: str
    status: str
    model: str
    body: dict[str, Any]
    input: list[dict[str, Any]]
    created_at: float
    previous_response_id: str | None = None
    conversation_id: str | None = None


@dataclass(frozen=True)
class Run:
    """One unit of work (a chat completion, a response): `running` until it ends; a process that dies leaves it
    `running`, and the next start marks it `failed`."""

    id: str
    owner: str
    kind: str
    status: str
    created_at: float
    finished_at: float | None = None
    error: str | None = None
    response_id: str | None = None
    conversation_id: str | None = None


@dataclass(frozen=True)
class RunEvent:
    id: int
    run_id: str
    type: str
    data: dict[str, Any]
    created_at: float
