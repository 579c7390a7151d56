"""In-process gateways for the tests of a project's versions, without reaching into app state.

``running_gateway`` builds the gateway from settings, runs its startup and shutdown (migrations,
tables, background tasks) around the test, and calls it with an ``httpx.AsyncClient`` over
``httpx.ASGITransport``: the requests go through the whole gateway, middleware and dispatch
included, with no server and no network. The object it yields adds the two steps nearly every test
needs first, a user with a password and a bearer token of one version::

    async with running_gateway(local_settings(tmp_path)) as gateway:
        await gateway.add_user("alice", "a long enough password", ["items:read"])
        headers = await gateway.bearer_headers(3, "alice", "a long enough password")
        response = await gateway.http.get("/apiv3/items/", headers=headers)

httpx is a development dependency, not a runtime one: importing this module never needs it (the
installed package imports every module it ships), and ``running_gateway`` says how to get it when
it is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gateway.app import create_app
from gateway.auth.users import UserStore
from gateway.services import Services
from gateway.settings import Settings, load_settings

try:
    import httpx
except ImportError as missing:  # only the development extra installs it
    _HTTPX_MISSING: ImportError | None = missing
else:
    _HTTPX_MISSING = None

__all__ = ["GatewayClient", "local_settings", "running_gateway"]

_BASE_URL = "http://testserver"
# A key long enough for every algorithm the gateway accepts; these gateways serve no one else.
_LOCAL_SECRET = "local-test-signing-key-" + "0" * 40


def local_settings(folder: Path, **sections: dict[str, Any]) -> Settings:
    """The project's settings (settings file, environment), with the database and the signing
    key in ``folder``; ``sections`` override more, section by section
    (``ratelimit={"authenticated": "5/minute"}``)."""
    overrides: dict[str, dict[str, Any]] = {
        "database": {"url": f"sqlite+aiosqlite:///{folder / 'gateway.db'}"},
        "auth": {"secret_key": _LOCAL_SECRET, "secret_key_file": str(folder / "secret.key")},
    }
    for name, values in sections.items():
        overrides[name] = {**overrides.get(name, {}), **values}
    return load_settings(None, **overrides)


@dataclass(frozen=True)
class GatewayClient:
    """A started gateway and the client that calls it; ``http`` sends any request."""

    app: FastAPI
    http: httpx.AsyncClient

    @property
    def services(self) -> Services:
        services: Services = self.app.state.gateway
        return services

    async def add_user(self, username: str, password: str, scopes: Sequence[str] = ()) -> None:
        """Create an account, as ``gateway users add`` does: the password is stored hashed."""
        password_hash = await self.services.passwords.hash(password)
        async with self.services.database.sessions() as session:
            await UserStore(session).add(username, password_hash, scopes)
            await session.commit()

    async def token(
        self, version: int, username: str, password: str, scope: str | None = None
    ) -> str:
        """An access token from version ``version``'s token route (password grant).

        Raises ``AssertionError`` with the response when the route refuses the login.
        """
        form = {"grant_type": "password", "username": username, "password": password}
        if scope is not None:
            form["scope"] = scope
        response = await self.http.post(f"/apiv{version}/token", data=form)
        if response.status_code != 200:
            raise AssertionError(f"login refused: {response.status_code} {response.text}")
        token: str = response.json()["access_token"]
        return token

    async def bearer_headers(
        self, version: int, username: str, password: str, scope: str | None = None
    ) -> dict[str, str]:
        """The ``Authorization`` header for a call to version ``version`` as ``username``."""
        return {"Authorization": f"Bearer {await self.token(version, username, password, scope)}"}


@asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[GatewayClient]:
    """The gateway ``settings`` describe, started, with a client; stopped on the way out."""
    if _HTTPX_MISSING is not None:
        raise ImportError(
            "gateway.testing needs httpx, a development dependency: "
            "pip install httpx (or the project's dev extra)"
        ) from _HTTPX_MISSING
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=_BASE_URL) as http:
            yield GatewayClient(app, http)
