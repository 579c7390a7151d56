"""The bench API built with fastapi-versionizer, as its README builds it: routes on an
``APIRouter`` marked with ``@api_version``, ``/users/me`` declared again for version 2 (as the
README's ``get_users_v2``), the token route carried over from version 1, the router included in
the app, and ``Versionizer(...).versionize()`` with the prefix ``/apiv{major}``.

Version 4.0 runs on FastAPI 0.136 at the newest: on 0.137 and later its README app fails.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi_versionizer.versionizer import Versionizer, api_version

from bench.apps.accounts import Claims, PasswordForm, Session, UserOut, login, me

app = FastAPI()
router = APIRouter()


@api_version(1)
@router.post("/token")
async def token(request: Request, form: PasswordForm, session: Session) -> dict[str, str]:
    return await login(request, form, session)


@api_version(1)
@router.get("/users/me")
async def read_me_v1(claims: Claims, session: Session) -> UserOut:
    return await me(claims, session)


@api_version(2)
@router.get("/users/me")
async def read_me_v2(claims: Claims, session: Session) -> UserOut:
    return await me(claims, session)


app.include_router(router)

versions = Versionizer(
    app=app,
    prefix_format="/apiv{major}",
    semantic_version_format="{major}",
    sort_routes=True,
).versionize()
