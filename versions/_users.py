"""``/users/me``, the same in every version: the caller named by the bearer token."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from gateway import BearerError, CurrentPrincipal, DbSession
from gateway.auth.users import UserStore

router = APIRouter(tags=["users"])


class UserOut(BaseModel):
    username: str
    scopes: list[str]
    token_scopes: list[str]
    created_at: datetime


@router.get("/users/me")
async def read_me(principal: CurrentPrincipal, session: DbSession) -> UserOut:
    """The caller: the account's granted scopes, and the scopes this token carries."""
    user = await UserStore(session).get(principal.username)
    if user is None:
        raise BearerError(401, "invalid_token", "The user this token names no longer exists")
    return UserOut(
        username=user.username,
        scopes=user.scope_list,
        token_scopes=sorted(principal.scopes),
        created_at=user.created_at,
    )
