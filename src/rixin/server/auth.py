"""Bearer keys: every request names its key; the key's id owns what the request creates and sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rixin.server.errors import APIError
from rixin.server.state import get_state

LOCAL_OWNER = "local"
"""The owner of requests without a key in local no-auth mode."""

bearer = HTTPBearer(auto_error=False, description="An API key made by `rixin keys create NAME` (rx-…)")


def unauthorized(message: str, code: str | None) -> APIError:
    return APIError(401, message, code=code, headers={"WWW-Authenticate": "Bearer"})


def current_owner(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """The key id of the request's key; 401 without a valid key. In no-auth mode a valid key still counts, and
    any other request (no key, or a placeholder an SDK insists on) belongs to LOCAL_OWNER."""
    state = get_state(request)
    if credentials is None or not credentials.credentials:
        if state.settings.no_auth:
            return LOCAL_OWNER
        raise unauthorized(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using "
            "Bearer auth (i.e. Authorization: Bearer YOUR_KEY). Create one with `rixin keys create NAME`.",
            None,
        )
    secret = credentials.credentials
    key = state.store.authenticate(secret)
    if key is None and state.settings.no_auth:
        return LOCAL_OWNER  # SDKs insist on sending some key ("none", "not-needed"): no-auth mode accepts it
    if key is None:
        shown = secret[:6] + "*" * 4 + secret[-4:] if len(secret) > 12 else "*" * 4
        raise unauthorized(f"Incorrect API key provided: {shown}.", "invalid_api_key")
    return key.id


Owner = Annotated[str, Depends(current_owner)]
