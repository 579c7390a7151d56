"""Shared fixtures: gateways built in process with their own settings, entered through their
lifespan and called with ``httpx.AsyncClient`` over ``httpx.ASGITransport``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway import Settings, create_app
from gateway.auth.users import UserStore
from gateway.services import Services

SECRET = "test-signing-key-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery"
ALL_SCOPES = ("items:read", "items:write")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a gateway whose database and key live in this test's temporary folder."""

    def make(**sections: Any) -> Settings:
        base = {
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"},
            "auth": {"secret_key": SECRET, "secret_key_file": str(tmp_path / "secret.key")},
            # Generous, so tests that log in and call many times are never throttled; the rate
            # limit tests set their own.
            "ratelimit": {
                "login_per_account": "1000/minute",
                "login_per_address": "1000/minute",
                "authenticated": "10000/minute",
            },
        }
        return Settings(**deep_merge(base, sections))

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    gateway = create_app(settings)
    async with gateway.router.lifespan_context(gateway):
        yield gateway


def client_for(app: FastAPI, root_path: str = "") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


AddUser = Callable[..., Awaitable[None]]
_hashes: dict[str, str] = {}


@pytest.fixture
def add_user(app: FastAPI) -> AddUser:
    """Create a user in the gateway's database: ``await add_user("alice", scopes=[...])``."""

    async def add(
        username: str, password: str = PASSWORD, scopes: tuple[str, ...] = ALL_SCOPES
    ) -> None:
        services: Services = app.state.gateway
        if password not in _hashes:  # one argon2 hash per password per test run
            _hashes[password] = await services.passwords.hash(password)
        password_hash = _hashes[password]
        async with services.database.sessions() as session:
            await UserStore(session).add(username, password_hash, scopes)
            await session.commit()

    return add


async def login(
    client: httpx.AsyncClient,
    version: int,
    username: str = "alice",
    password: str = PASSWORD,
    **extra: str,
) -> str:
    response = await client.post(
        f"/apiv{version}/token",
        data={"grant_type": "password", "username": username, "password": password, **extra},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def versions(app: FastAPI) -> list[int]:
    return [version.number for version in app.state.gateway.versions]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # ``version`` runs a test once per version module shipped in versions/.
    already = {
        name
        for mark in metafunc.definition.iter_markers("parametrize")
        for name in (mark.args[0].split(",") if isinstance(mark.args[0], str) else mark.args[0])
    }
    if "version" in metafunc.fixturenames and "version" not in {n.strip() for n in already}:
        from gateway.settings import VersionsSettings
        from gateway.versioning.discovery import discover_versions

        numbers = [found.number for found in discover_versions(VersionsSettings())]
        metafunc.parametrize("version", numbers, ids=[f"v{n}" for n in numbers])
