"""The bench API built with fastapi-router-versioning, as its README and its major-only example
build it: routes on an ``APIRouter`` marked with ``@api_version``, ``/users/me`` declared again
for version 2 (as the README's ``get_items_v2``), the token route carried over from version 1,
and ``RouterVersioner(...).versionize()`` with the prefix ``/apiv{major}``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi_router_versioning import RouterVersioner, VersionFormat, api_version

from bench.apps.accounts import Claims, PasswordForm, Session, UserOut, login, me

app = FastAPI()
router = APIRouter()


@router.post("/token")
@api_version((1, 0))
async def token(request: Request, form: PasswordForm, session: Session) -> dict[str, str]:
    return await login(request, form, session)


@router.get("/users/me")
@api_version((1, 0))
async def read_me_v1(claims: Claims, session: Session) -> UserOut:
    return await me(claims, session)


@router.get("/users/me")
@api_version((2, 0))
async def read_me_v2(claims: Claims, session: Session) -> UserOut:
    return await me(claims, session)


RouterVersioner(
    app=app,
    routers=router,
    version_format=VersionFormat.SEMVER,
    prefix_format="/apiv{major}",
    semantic_version_format="{major}",
).versionize()
