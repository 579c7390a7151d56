"""How the gateway wires its versions: dispatch by path, lifespans, and the middleware,
exception handlers and dependency overrides set on the gateway reaching every version."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import Settings, create_app
from tests.conftest import client_for
from tests.fixtures.hooks import _events
from tests.fixtures.hooks._events import BoomError, greeting

pytestmark = pytest.mark.anyio


@pytest.fixture
def hooks_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(versions={"package": "tests.fixtures.hooks", "entry_points": False})


@pytest.fixture
async def hooks_app(hooks_settings: Settings) -> AsyncIterator[FastAPI]:
    gateway = create_app(hooks_settings)
    async with gateway.router.lifespan_context(gateway):
        yield gateway


async def test_lifespans_run_once_in_order_and_leave_in_reverse(hooks_settings: Settings) -> None:
    _events.events.clear()
    gateway = create_app(hooks_settings)
    async with gateway.router.lifespan_context(gateway):
        assert _events.events == ["enter v1", "enter v2"]
        async with client_for(gateway) as client:
            await client.get("/apiv1/greeting")
            await client.get("/apiv2/greeting")
        assert _events.events == ["enter v1", "enter v2"]
    assert _events.events == ["enter v1", "enter v2", "exit v2", "exit v1"]


@pytest.mark.parametrize("root_path", ["", "/gw"])
async def test_url_for_inside_a_version_gives_that_versions_urls(
    hooks_app: FastAPI, root_path: str
) -> None:
    async with client_for(hooks_app, root_path=root_path) as client:
        for number in (1, 2):
            response = await client.get(f"{root_path}/apiv{number}/things/7")
            assert response.json() == {
                "self": f"http://testserver{root_path}/apiv{number}/things/7"
            }


async def test_gateway_exception_handler_reaches_every_version(hooks_settings: Settings) -> None:
    gateway = create_app(hooks_settings)

    async def handle_boom(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"handled": str(exc)}, status_code=418)

    gateway.add_exception_handler(BoomError, handle_boom)
    async with gateway.router.lifespan_context(gateway), client_for(gateway) as client:
        for number in (1, 2):
            response = await client.get(f"/apiv{number}/boom")
            assert (response.status_code, response.json()) == (418, {"handled": "it went off"})


async def test_unhandled_error_is_a_500_without_a_stack_trace(hooks_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=hooks_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/apiv1/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "Traceback" not in response.text
    assert "BoomError" not in response.text


async def test_gateway_dependency_overrides_reach_every_version(hooks_app: FastAPI) -> None:
    async with client_for(hooks_app) as client:
        assert (await client.get("/apiv1/greeting")).json() == {"message": "hello from the version"}
        hooks_app.dependency_overrides[greeting] = lambda: "overridden"
        for number in (1, 2):
            response = await client.get(f"/apiv{number}/greeting")
            assert response.json() == {"message": "overridden"}


class TagResponses:
    """A pure-ASGI middleware that marks every response it sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                message["headers"] = [*headers, (b"x-tagged", b"yes")]
            await send(message)

        await self.app(scope, receive, tagged)


async def test_gateway_middleware_reaches_every_version(hooks_settings: Settings) -> None:
    gateway = create_app(hooks_settings)
    gateway.add_middleware(TagResponses)
    async with gateway.router.lifespan_context(gateway), client_for(gateway) as client:
        for path in ("/apiv1/greeting", "/apiv2/greeting", "/healthz", "/apiv2/docs"):
            assert (await client.get(path)).headers.get("x-tagged") == "yes", path


async def test_version_mount_without_slash_redirects(hooks_app: FastAPI) -> None:
    async with client_for(hooks_app) as client:
        response = await client.get("/apiv1")
        assert response.status_code == 307
        assert response.headers["location"] == "/apiv1/"
        response = await client.get("/apiv1/")
        assert response.status_code == 307
        assert response.headers["location"] == "/apiv1/docs"


async def test_unknown_version_and_paths_are_json_404s(hooks_app: FastAPI) -> None:
    async with client_for(hooks_app) as client:
        for path in ("/apiv9/items/", "/apiv1x", "/nothing", "/apiv1/nothing"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/json"


async def test_prefix_that_only_looks_like_a_version_is_not_dispatched(hooks_app: FastAPI) -> None:
    async with client_for(hooks_app) as client:
        assert (await client.get("/apiv10/greeting")).status_code == 404
        assert (await client.get("/apiv1greeting")).status_code == 404
