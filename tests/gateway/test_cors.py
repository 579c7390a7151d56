"""CORS only for configured origins, and never ``*`` with credentials (STANDARDS 28)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway import Settings, create_app
from tests.conftest import client_for

pytestmark = pytest.mark.anyio
PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


async def test_no_origins_means_no_cors(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app), client_for(app) as client:
        response = await client.get("/versions", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in response.headers


async def test_configured_origins_only(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(cors={"origins": ["https://app.example"], "allow_credentials": True})
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_for(app) as client:
        allowed = await client.options(
            "/apiv2/items/", headers={"Origin": "https://app.example", **PREFLIGHT}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        refused = await client.options(
            "/apiv2/items/", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = await client.get("/apiv2/docs", headers={"Origin": "https://app.example"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


def test_wildcard_with_credentials_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="origins cannot be '\\*' when allow_credentials is true"):
        make_settings(cors={"origins": ["*"], "allow_credentials": True})
