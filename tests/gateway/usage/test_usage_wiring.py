"""Usage counts through the gateway: every version request is counted by principal, shown on
/versions, written off the request path, and kept across restarts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from gateway import Settings, create_app
from gateway.auth.users import UserStore
from gateway.services import Services
from gateway.usage.recorder import ANONYMOUS, usage_report
from tests.conftest import AddUser, bearer, client_for, login

pytestmark = pytest.mark.anyio


@pytest.fixture
def statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the gateway's engine runs while the test runs."""
    seen: list[str] = []
    engine = app.state.gateway.database.engine.sync_engine

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


async def test_requests_are_counted_by_principal_and_shown(
    app: FastAPI, client: httpx.AsyncClient, add_user: AddUser
) -> None:
    await add_user("alice")
    token = await login(client, 2)
    for _ in range(3):
        await client.get("/apiv2/items/", headers=bearer(token))
    await client.get("/apiv1/docs")
    listing = {v["number"]: v for v in (await client.get("/versions")).json()["versions"]}
    assert listing[2]["requests_24h"] == 4  # the token request and three calls
    assert listing[1]["requests_24h"] == 1
    assert listing[2]["last_called"] is not None
    services: Services = app.state.gateway
    await services.usage.flush()
    rows = await usage_report(services.database)
    assert {(r.version, r.principal, r.requests) for r in rows} == {
        (2, "alice", 4),  # the login counts as alice's
        (1, ANONYMOUS, 1),
    }


async def test_serving_writes_nothing_to_the_database(
    app: FastAPI, client: httpx.AsyncClient, add_user: AddUser, statements: list[str]
) -> None:
    await add_user("alice")
    token = await login(client, 2)
    services: Services = app.state.gateway
    await services.usage.flush()
    statements.clear()
    for _ in range(5):
        assert (await client.get("/apiv2/items/", headers=bearer(token))).status_code == 200
        assert (await client.get("/apiv1/docs")).status_code == 200
    assert statements, "the item listing reads the database"
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in statements), statements
    assert services.usage.pending_requests == 10
    await services.usage.flush()
    assert any("version_usage" in sql for sql in statements)


async def test_counts_survive_a_restart(settings: Settings) -> None:
    for expected in (2, 4):
        gateway = create_app(settings)
        async with gateway.router.lifespan_context(gateway), client_for(gateway) as client:
            await client.get("/apiv1/users/me")
            await client.get("/apiv1/docs")
        services: Services = gateway.state.gateway
        rows = await usage_report(services.database)
        assert [(r.version, r.principal, r.requests) for r in rows] == [(1, ANONYMOUS, expected)]
        await services.database.dispose()


async def test_callers_of_a_retired_version_are_still_named(
    make_settings: Any, add_user: AddUser
) -> None:
    settings = make_settings(versions={"v1": {"status": "retired"}})
    gateway = create_app(settings)
    async with gateway.router.lifespan_context(gateway), client_for(gateway) as client:
        services: Services = gateway.state.gateway
        password_hash = await services.passwords.hash("a password here")
        async with services.database.sessions() as session:
            await UserStore(session).add("bob", password_hash, [])
            await session.commit()
        token = services.tokens.issue("bob", "apiv1", ()).access_token
        assert (await client.get("/apiv1/items/", headers=bearer(token))).status_code == 410
        await services.usage.flush()
        rows = await usage_report(services.database)
    assert [(r.version, r.principal) for r in rows] == [(1, "bob")]
