"""``GET /users/me``, the same in every version: the caller named by the bearer token.

The factory adds it to every version app, so a client can always ask who its token speaks for,
whatever else the version changed. A module that serves its own, or none, passes
``users_me=False`` to ``create_version_app``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from pydantic import BaseModel

from gateway.auth.bearer import CurrentPrincipal
from gateway.auth.users import find_account
from gateway.errors import BearerError
from gateway.services import get_services

USERS_ME_PATH = "/users/me"


class UserOut(BaseModel):
    username: str
    scopes: list[str]
    token_scopes: list[str]
    created_at: datetime


async def read_me(principal: CurrentPrincipal, request: Request) -> UserOut:
    """The caller: the account's granted scopes, and the scopes this token carries."""
    # A lookup, not a session: the route reads one row on every call.
    user = await find_account(get_services(request).database.lookups, principal.username)
    if user is None:
        raise BearerError(401, "invalid_token", "The user this token names no longer exists")
    return UserOut(
        username=user.username,
        scopes=user.scope_list,
        token_scopes=sorted(principal.scopes),
        created_at=user.created_at,
    )
