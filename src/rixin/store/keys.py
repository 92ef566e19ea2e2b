"""API keys: a random secret shown once; the store keeps only its sha256 and its first characters."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import or_, select

from rixin.store.base import NotFoundError, StoreBase, new_id, now
from rixin.store.database import StoreError
from rixin.store.records import ApiKey
from rixin.store.tables import ApiKeyRow

KEY_PREFIX = "rx-"
SHOWN_CHARS = 10
"""How much of a key is stored in clear to tell keys apart (`rx-` and 7 random characters)."""


MIN_PREFIX = 5


class AmbiguousKeyError(StoreError):
    """A prefix that matches several keys."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _record(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.id, row.name, row.prefix, row.created_at, row.revoked_at)


class KeysStore(StoreBase):
    def create_key(self, name: str) -> tuple[ApiKey, str]:
        """A new key: its record and the secret (the only time the secret exists outside the client)."""
        if not name.strip():
            raise StoreError("a key needs a name")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=new_id("key_"),
            name=name.strip()[:200],
            prefix=secret[:SHOWN_CHARS],
            secret_hash=hash_secret(secret),
            created_at=now(),
        )
        with self._session() as session:
            session.add(row)
        return _record(row), secret

    def list_keys(self) -> list[ApiKey]:
        with self._session() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
            return [_record(row) for row in rows]

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is; None for an unknown or revoked key."""
        if not secret:
            return None
        with self._session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.secret_hash == hash_secret(secret)))
            if row is None or row.revoked_at is not None:
                return None
            return _record(row)

    def revoke_key(self, id_or_prefix: str) -> ApiKey:
        """Revoke the key with this id, or the one key whose shown prefix starts with this text."""
        wanted = id_or_prefix.strip()
        if not wanted:
            raise NotFoundError("no key given")
        with self._session() as session:
            if len(wanted) > SHOWN_CHARS and wanted.startswith(KEY_PREFIX):  # the whole key, given by mistake
                condition = ApiKeyRow.secret_hash == hash_secret(wanted)
            else:
                condition = or_(ApiKeyRow.id == wanted, ApiKeyRow.prefix.startswith(wanted, autoescape=True))
            rows = list(session.scalars(select(ApiKeyRow).where(condition)))
            exact = [row for row in rows if row.id == wanted]
            if not exact and len(wanted) < MIN_PREFIX:
                raise NotFoundError(f"no key with id {wanted!r} (a prefix needs at least {MIN_PREFIX} characters)")
            matches = exact or rows
            if not matches:
                raise NotFoundError(f"no key with id or prefix {wanted!r}")
            if len(matches) > 1:
                listing = ", ".join(f"{row.id} ({row.prefix})" for row in matches)
                raise AmbiguousKeyError(f"{wanted!r} matches several keys: {listing}; give the key id")
            row = matches[0]
            if row.revoked_at is None:
                row.revoked_at = now()
            return _record(row)
