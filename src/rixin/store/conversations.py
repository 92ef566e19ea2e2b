"""Conversations and their items, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rixin.store.base import NotFoundError, StoreBase, new_id, now
from rixin.store.records import Conversation, ConversationItem
from rixin.store.tables import ConversationRow, ItemRow


def _conversation(row: ConversationRow) -> Conversation:
    return Conversation(row.id, row.owner, row.created_at, row.updated_at, dict(row.meta or {}))


def _item(row: ItemRow) -> ConversationItem:
    return ConversationItem(row.id, row.conversation_id, dict(row.data), row.created_at)


class ConversationsStore(StoreBase):
    def create_conversation(
        self, owner: str, metadata: dict[str, Any] | None = None, items: Sequence[dict[str, Any]] = ()
    ) -> tuple[Conversation, list[ConversationItem]]:
        """A new conversation with its first items, in one transaction."""
        stamp = now()
        row = ConversationRow(id=new_id("conv_"), owner=owner, meta=dict(metadata or {}), created_at=stamp)
        row.updated_at = stamp
        with self._session() as session:
            session.add(row)
            session.flush()
            added = self._add(session, row.id, items, stamp)
        return _conversation(row), added

    def get_conversation(self, owner: str, conversation_id: str) -> Conversation | None:
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id)
            return _conversation(row) if row is not None and row.owner == owner else None

    def list_conversations(self, owner: str, *, limit: int | None = None) -> list[Conversation]:
        """Most recently updated first."""
        query = (
            select(ConversationRow)
            .where(ConversationRow.owner == owner)
            .order_by(ConversationRow.updated_at.desc(), ConversationRow.id.desc())
            .limit(limit)
        )
        with self._session() as session:
            return [_conversation(row) for row in session.scalars(query)]

    def update_conversation(self, owner: str, conversation_id: str, metadata: dict[str, Any]) -> Conversation:
        with self._session() as session:
            row = self._owned(session, owner, conversation_id)
            row.meta = dict(metadata)
            row.updated_at = now()
            return _conversation(row)

    def delete_conversation(self, owner: str, conversation_id: str) -> bool:
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None or row.owner != owner:
                return False
            session.execute(delete(ItemRow).where(ItemRow.conversation_id == conversation_id))
            session.delete(row)
            return True

    def add_items(self, owner: str, conversation_id: str, items: Sequence[dict[str, Any]]) -> list[ConversationItem]:
        """Append items (OpenAI-shaped dicts, each given a new `id`). NotFoundError when the conversation is not
        this owner's."""
        with self._session() as session:
            row = self._owned(session, owner, conversation_id)
            stamp = now()
            row.updated_at = stamp
            return self._add(session, conversation_id, items, stamp)

    def list_items(
        self,
        owner: str,
        conversation_id: str,
        *,
        order: Literal["asc", "desc"] = "asc",
        limit: int | None = None,
        after: str | None = None,
    ) -> list[ConversationItem]:
        """The items in the order they were added (NotFoundError when the conversation is not this owner's)."""
        with self._session() as session:
            self._owned(session, owner, conversation_id)
            query = select(ItemRow).where(ItemRow.conversation_id == conversation_id)
            if after is not None:
                anchor = session.scalar(
                    select(ItemRow.seq).where(ItemRow.id == after, ItemRow.conversation_id == conversation_id)
                )
                if anchor is None:
                    return []
                query = query.where(ItemRow.seq > anchor if order == "asc" else ItemRow.seq < anchor)
            query = query.order_by(ItemRow.seq if order == "asc" else ItemRow.seq.desc()).limit(limit)
            return [_item(item) for item in session.scalars(query)]

    @staticmethod
    def _owned(session: Session, owner: str, conversation_id: str) -> ConversationRow:
        row = session.get(ConversationRow, conversation_id)
        if row is None or row.owner != owner:
            raise NotFoundError(f"no conversation {conversation_id!r}")
        return row

    @staticmethod
    def _add(
        session: Session, conversation_id: str, items: Sequence[dict[str, Any]], stamp: float
    ) -> list[ConversationItem]:
        rows = []
        for item in items:
            # Ids are always made here: they are unique across conversations.
            data = {**item, "id": new_id("msg_" if item.get("type", "message") == "message" else "item_")}
            rows.append(ItemRow(id=str(data["id"]), conversation_id=conversation_id, data=data, created_at=stamp))
        session.add_all(rows)
        session.flush()
        return [_item(row) for row in rows]
