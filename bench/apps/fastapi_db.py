"""H: the hand-written app on the database route, as a user would write two versions with
FastAPI alone: one sub-app per version, mounted at ``/apiv1`` and ``/apiv2`` with ``app.mount``,
each with its token route, ``/users/me`` (the caller loaded from the database on every request)
and ``/ping`` (the same PyJWT check, no database), as R2.
"""

from __future__ import annotations

from fastapi import FastAPI, Request

from bench.apps.accounts import Claims, PasswordForm, Session, UserOut, login, me


def version_app() -> FastAPI:
    api = FastAPI()

    @api.post("/token")
    async def token(request: Request, form: PasswordForm, session: Session) -> dict[str, str]:
        return await login(request, form, session)

    @api.get("/users/me")
    async def read_me(claims: Claims, session: Session) -> UserOut:
        return await me(claims, session)

    @api.get("/ping")
    async def ping(claims: Claims) -> dict[str, str]:
        return {"user": claims["sub"]}

    return api


app = FastAPI()
app.mount("/apiv1", version_app())
app.mount("/apiv2", version_app())
