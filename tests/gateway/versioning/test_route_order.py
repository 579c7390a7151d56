"""The factory's routes go after a module's routes only when no answer changes."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI, WebSocket
from starlette.routing import Host

from gateway import create_version_app
from gateway.versioning.factory import move_factory_routes_last
from tests.conftest import client_for

pytestmark = pytest.mark.anyio

PAGES = ["/token", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"]


def paths(app: FastAPI) -> list[str | None]:
    return [getattr(route, "path", None) for route in app.router.routes]


def with_ping() -> FastAPI:
    app = create_version_app(title="Ping")

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


def test_a_modules_routes_are_tried_before_the_factorys() -> None:
    app = with_ping()
    assert move_factory_routes_last(app)
    order = paths(app)
    assert order[0] == "/ping"
    assert {"/token", "/revoke", *PAGES} <= set(order[1:])


async def test_the_openapi_document_still_lists_the_factorys_operations_first(
    client: httpx.AsyncClient,
) -> None:
    for number in (1, 2):
        document = (await client.get(f"/apiv{number}/openapi.json")).json()
        assert list(document["paths"])[:2] == ["/token", "/revoke"]
        assert len(document["paths"]) > 2


def test_moving_leaves_routes_added_later_after_the_pages() -> None:
    app = with_ping()
    move_factory_routes_last(app)

    @app.get("/{anything:path}")
    async def catch_all(anything: str) -> dict[str, str]:
        return {"caught": anything}

    assert paths(app)[-1] == "/{anything:path}"


async def endpoint() -> dict[str, str]:
    return {"module": "answered"}


async def socket(websocket: WebSocket) -> None:
    await websocket.close()


CLASHES = {
    "catch-all": lambda app: app.add_api_route("/{anything:path}", endpoint),
    "same-path": lambda app: app.add_api_route("/docs", endpoint),
    "other-method-on-token": lambda app: app.add_api_route("/token", endpoint, methods=["PUT"]),
    "websocket": lambda app: app.add_api_websocket_route("/redoc", socket),
    "same-name": lambda app: app.add_api_route("/ping", endpoint, name="swagger_ui"),
    "mount": lambda app: app.mount("/", with_ping()),
}


@pytest.mark.parametrize("clash", CLASHES.values(), ids=CLASHES.keys())
def test_the_order_stays_when_a_module_route_could_answer_a_page(
    clash: Callable[[FastAPI], None],
) -> None:
    app = create_version_app(title="Clash")
    clash(app)
    before = paths(app)
    assert not move_factory_routes_last(app)
    assert paths(app) == before


def test_the_order_stays_with_a_host_route() -> None:
    app = with_ping()
    app.router.routes.append(Host("docs.example", app=with_ping()))
    assert not move_factory_routes_last(app)


async def test_a_catch_all_module_still_gets_the_factorys_pages() -> None:
    app = create_version_app(title="Catch-all")
    CLASHES["catch-all"](app)
    move_factory_routes_last(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        redirect_page = await client.get("/docs/oauth2-redirect")
        assert redirect_page.headers["content-type"].startswith("text/html")
        assert (await client.get("/elsewhere")).json() == {"module": "answered"}


async def test_pages_and_routes_answer_after_the_move(app: FastAPI) -> None:
    async with client_for(app) as client:
        for number in (1, 2):
            routes = app.version_app(number).router.routes
            assert getattr(routes[-1], "path", None) == "/"  # the factory's routes were moved
            assert (await client.get(f"/apiv{number}/docs")).status_code == 200
            assert (await client.get(f"/apiv{number}/openapi.json")).status_code == 200
            assert (await client.get(f"/apiv{number}/token")).status_code == 405
            assert (await client.get(f"/apiv{number}/.well-known/jwks.json")).status_code == 200
            root = await client.get(f"/apiv{number}/", follow_redirects=False)
            assert root.headers["location"].endswith(f"/apiv{number}/docs")
