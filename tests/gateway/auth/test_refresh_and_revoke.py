"""Refresh tokens (rotated, replay revokes the family) and revocation (RFC 7009), enforced on
every instance that shares the database."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from gateway import Settings, create_app
from gateway.auth.refresh_tokens import RefreshToken
from gateway.auth.users import UserStore
from gateway.services import Services
from tests.conftest import PASSWORD, AddUser, bearer, client_for

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def alice(add_user: AddUser) -> None:
    await add_user("alice")


async def log_in(client: httpx.AsyncClient, version: int = 2, **extra: str) -> dict[str, Any]:
    form = {"grant_type": "password", "username": "alice", "password": PASSWORD, **extra}
    response = await client.post(f"/apiv{version}/token", data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(
    client: httpx.AsyncClient, token: str, version: int = 2, **extra: str
) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    return await client.post(f"/apiv{version}/token", data=form)


async def me(client: httpx.AsyncClient, access_token: str, version: int = 2) -> httpx.Response:
    return await client.get(f"/apiv{version}/users/me", headers=bearer(access_token))


async def test_refresh_rotates(client: httpx.AsyncClient) -> None:
    first = await log_in(client)
    assert first["refresh_token"]
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == "items:read items:write"
    assert (await me(client, second["access_token"])).status_code == 200
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200


async def test_replay_revokes_the_whole_family(client: httpx.AsyncClient) -> None:
    first = await log_in(client)
    second = (await refresh(client, first["refresh_token"])).json()
    assert (await me(client, second["access_token"])).status_code == 200
    replay = await refresh(client, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    # The thief's and the owner's tokens of that family are all dead now.
    assert (await refresh(client, second["refresh_token"])).json()["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        response = await me(client, token)
        assert response.status_code == 401
        assert (
            'error_description="The access token was revoked"'
            in response.headers["www-authenticate"]
        )
    # Another login is another family, unaffected.
    assert (await me(client, (await log_in(client))["access_token"])).status_code == 200


async def test_refresh_tokens_belong_to_their_version(client: httpx.AsyncClient) -> None:
    from_v1 = await log_in(client, version=1)
    response = await refresh(client, from_v1["refresh_token"], version=2)
    assert response.json()["error"] == "invalid_grant"
    assert (await refresh(client, from_v1["refresh_token"], version=1)).status_code == 200


async def test_scopes_can_narrow_but_never_widen(client: httpx.AsyncClient) -> None:
    narrow = await log_in(client, scope="items:read")
    widened = await refresh(client, narrow["refresh_token"], scope="items:read items:write")
    assert widened.json()["error"] == "invalid_scope"
    full = await log_in(client)
    narrowed = await refresh(client, full["refresh_token"], scope="items:read")
    assert narrowed.json()["scope"] == "items:read"


@pytest.mark.parametrize("token", ["", "no-such-token", "x" * 500])
async def test_bad_refresh_tokens(client: httpx.AsyncClient, token: str) -> None:
    response = await refresh(client, token)
    assert response.status_code == 400
    assert response.json()["error"] == ("invalid_request" if not token else "invalid_grant")


async def test_expired_refresh_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    tokens = await log_in(client)
    services: Services = app.state.gateway
    async with services.database.sessions() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(RefreshToken).values(expires_at=past))
        await session.commit()
    response = await refresh(client, tokens["refresh_token"])
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token expired",
    }


async def test_removed_user_cannot_refresh(app: FastAPI, client: httpx.AsyncClient) -> None:
    tokens = await log_in(client)
    services: Services = app.state.gateway
    async with services.database.sessions() as session:
        await UserStore(session).remove("alice")
        await session.commit()
    assert (await refresh(client, tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def revoke(
    client: httpx.AsyncClient, token: str, version: int = 2, **extra: str
) -> httpx.Response:
    return await client.post(f"/apiv{version}/revoke", data={"token": token, **extra})


async def test_revoking_an_access_token(client: httpx.AsyncClient) -> None:
    tokens = await log_in(client)
    response = await revoke(client, tokens["access_token"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert (await me(client, tokens["access_token"])).status_code == 401
    # Its refresh token still works: only the access token was revoked.
    fresh = (await refresh(client, tokens["refresh_token"])).json()
    assert (await me(client, fresh["access_token"])).status_code == 200


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])
async def test_revoking_a_refresh_token_ends_its_family(
    client: httpx.AsyncClient, hint: str | None
) -> None:
    tokens = await log_in(client)
    extra = {"token_type_hint": hint} if hint else {}
    assert (await revoke(client, tokens["refresh_token"], **extra)).status_code == 200
    assert (await refresh(client, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await me(client, tokens["access_token"])).status_code == 401


async def test_revoking_unknown_or_foreign_tokens_is_a_quiet_200(client: httpx.AsyncClient) -> None:
    from_v1 = await log_in(client, version=1)
    for token in ("nonsense", "a.b.c", from_v1["access_token"], from_v1["refresh_token"]):
        assert (await revoke(client, token, version=2)).status_code == 200
    # Tokens of another version are not revoked by this one.
    assert (await me(client, from_v1["access_token"], version=1)).status_code == 200
    missing = await client.post("/apiv2/revoke", data={})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


async def test_revocation_reaches_another_instance_within_a_second(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    other = create_app(settings)  # a second instance on the same database
    async with other.router.lifespan_context(other), client_for(other) as elsewhere:
        tokens = await log_in(client)
        assert (await me(elsewhere, tokens["access_token"])).status_code == 200
        await revoke(client, tokens["access_token"])
        start = time.monotonic()
        while (await me(elsewhere, tokens["access_token"])).status_code == 200:
            assert time.monotonic() - start < 1.0, "not revoked elsewhere within a second"
            await anyio.sleep(0.05)
