"""The gateway's own routes: the version index, health and readiness."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from gateway import Settings, create_app
from gateway.services import Services
from tests.conftest import PASSWORD, AddUser, client_for

pytestmark = pytest.mark.anyio


def expected_entry(number: int, root: str = "") -> dict[str, object]:
    base = f"{root}/apiv{number}"
    return {
        "number": number,
        "path": base,
        "status": "stable",
        "deprecated_at": None,
        "sunset": None,
        "successor": 2 if number == 1 else None,
        "docs_url": f"{base}/docs",
        "redoc_url": f"{base}/redoc",
        "openapi_url": f"{base}/openapi.json",
        "token_url": f"{base}/token",
        "requests_24h": 0,
        "last_called": None,
    }


@pytest.mark.parametrize("root_path", ["", "/gw"])
async def test_versions_lists_urls_with_the_root_path(app: FastAPI, root_path: str) -> None:
    async with client_for(app, root_path=root_path) as client:
        response = await client.get(f"{root_path}/versions")
    assert response.json() == {
        "versions": [expected_entry(1, root_path), expected_entry(2, root_path)]
    }


async def test_index_is_json_for_clients_and_html_for_browsers(client: httpx.AsyncClient) -> None:
    as_json = await client.get("/", headers={"Accept": "application/json"})
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json() == (await client.get("/versions")).json()
    page = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    for number in (1, 2):
        assert f'href="/apiv{number}/docs"' in page.text
        assert f"<code>/apiv{number}/token</code>" in page.text


async def test_version_status_comes_from_settings(make_settings: Callable[..., Settings]) -> None:
    gateway = create_app(
        make_settings(versions={"v1": {"status": "deprecated", "deprecated_at": "2026-01-01"}})
    )
    async with gateway.router.lifespan_context(gateway), client_for(gateway) as client:
        listing = (await client.get("/versions")).json()["versions"]
    assert [entry["status"] for entry in listing] == ["deprecated", "stable"]


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readiness_fails_when_the_database_is_unreachable(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    services: Services = app.state.gateway
    working = services.database.engine
    # A real connection attempt to a port where no database listens.
    services.database.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "checks": {"database": "unreachable"}}
        assert (await client.get("/healthz")).status_code == 200
    finally:
        await services.database.engine.dispose()
        services.database.engine = working
    assert (await client.get("/readyz")).status_code == 200


async def test_logins_do_not_block_the_event_loop(
    client: httpx.AsyncClient, add_user: AddUser
) -> None:
    await add_user("alice")
    login = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    health: list[float] = []
    logins_done = anyio.Event()

    async def log_in() -> None:
        assert (await client.post("/apiv1/token", data=login)).status_code == 200

    async def burst() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(log_in)
        logins_done.set()

    async def probe() -> None:
        await anyio.sleep(0.05)
        while not logins_done.is_set():
            start = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            health.append(time.perf_counter() - start)
            await anyio.sleep(0.01)

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        group.start_soon(burst)
        group.start_soon(probe)
    burst_time = time.perf_counter() - start
    # Six argon2 verifies take a second or more; health checks kept answering throughout,
    # each in a small fraction of the burst.
    assert len(health) >= 5, health
    assert max(health) < burst_time / 4, (health, burst_time)
