"""Per-version OpenAPI documents and docs pages (STANDARDS.md items 19-21)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import client_for

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("root_path", ["", "/gw", "/a/b"])
async def test_servers_and_token_url(app: FastAPI, version: int, root_path: str) -> None:
    async with client_for(app, root_path=root_path) as client:
        for _ in range(3):  # computed per request: nothing accumulates
            response = await client.get(f"{root_path}/apiv{version}/openapi.json")
            document = response.json()
            assert document["servers"] == [{"url": f"{root_path}/apiv{version}"}]
        scheme = document["components"]["securitySchemes"][f"apiv{version}_oauth2"]
        assert scheme["flows"]["password"]["tokenUrl"] == "token"


async def test_root_paths_do_not_leak_between_requests(app: FastAPI) -> None:
    async with client_for(app, root_path="/gw") as proxied, client_for(app) as direct:
        await proxied.get("/gw/apiv1/openapi.json")
        document = (await direct.get("/apiv1/openapi.json")).json()
    assert document["servers"] == [{"url": "/apiv1"}]


async def test_each_version_has_its_own_security_scheme(
    client: httpx.AsyncClient, versions: list[int]
) -> None:
    names = set()
    for number in versions:
        document = (await client.get(f"/apiv{number}/openapi.json")).json()
        schemes = document["components"]["securitySchemes"]
        assert list(schemes) == [f"apiv{number}_oauth2"]
        names |= set(schemes)
        scopes = schemes[f"apiv{number}_oauth2"]["flows"]["password"]["scopes"]
        assert set(scopes) == {"items:read", "items:write"}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                for requirement in operation.get("security", []):
                    assert list(requirement) == [f"apiv{number}_oauth2"], (path, method)
    assert len(names) == len(versions)


async def test_token_route_is_documented_as_a_form(client: httpx.AsyncClient, version: int) -> None:
    document = (await client.get(f"/apiv{version}/openapi.json")).json()
    operation = document["paths"]["/token"]["post"]
    schema = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["required"] == ["grant_type"]
    assert schema["properties"]["grant_type"]["enum"] == ["password", "refresh_token"]


@pytest.mark.parametrize("page", ["docs", "redoc"])
@pytest.mark.parametrize("root_path", ["", "/gw"])
async def test_docs_pages_load_everything_from_the_gateway(
    app: FastAPI, version: int, page: str, root_path: str
) -> None:
    async with client_for(app, root_path=root_path) as client:
        response = await client.get(f"{root_path}/apiv{version}/{page}")
        assert response.status_code == 200
        html = response.text
        assert "http://" not in html
        assert "https://" not in html
        assert "//cdn" not in html
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, html
        for asset in assets:
            assert asset.startswith(f"{root_path}/docs-assets/"), asset
            loaded = await client.get(asset)
            assert loaded.status_code == 200, asset
            assert len(loaded.content) > 100, asset
        assert f"'{root_path}/apiv{version}/openapi.json'" in html or (
            f'"{root_path}/apiv{version}/openapi.json"' in html
        )


async def test_swagger_ui_persists_authorization(client: httpx.AsyncClient) -> None:
    html = (await client.get("/apiv2/docs")).text
    assert '"persistAuthorization": true' in html


async def test_assets_carry_swagger_ui_5(client: httpx.AsyncClient) -> None:
    # Swagger UI 4 cannot render the OpenAPI 3.1 documents FastAPI emits.
    bundle = (await client.get("/docs-assets/swagger-ui-bundle.js")).text
    assert re.search(r'"5\.\d+\.\d+"', bundle)
    document = (await client.get("/apiv2/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
