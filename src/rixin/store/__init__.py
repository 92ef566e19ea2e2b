"""Persistence behind one interface: API keys (hashed), files, conversations, responses, runs and their events.

SQLite in WAL mode by default (`~/.local/share/rixin/rixin.db`), PostgreSQL by URL
(`postgresql+psycopg://user:password@host/db`). The schema is managed by Alembic migrations shipped in the
package and applied by `open_store` (`upgrade head`).
"""

from rixin.store.base import NotFoundError, new_id
from rixin.store.database import StoreError, current_revision, database_url, default_db_path
from rixin.store.keys import AmbiguousKeyError, hash_secret
from rixin.store.records import ApiKey, Conversation, ConversationItem, FileInfo, ResponseRecord, Run, RunEvent
from rixin.store.runs import INTERRUPTED
from rixin.store.store import Store, open_store

__all__ = [
    "INTERRUPTED",
    "AmbiguousKeyError",
    "ApiKey",
    "Conversation",
    "ConversationItem",
    "FileInfo",
    "NotFoundError",
    "ResponseRecord",
    "Run",
    "RunEvent",
    "Store",
    "StoreError",
    "current_revision",
    "database_url",
    "default_db_path",
    "hash_secret",
    "new_id",
    "open_store",
]
