"""The gateway behind a real nginx that serves it under a path prefix.

nginx passes ``/gw/...`` to a ``gateway serve --root-path /gw`` process with the prefix stripped
(fixtures ``proxy`` and ``proxied_server`` in conftest.py). A client sees only the proxy, so every
URL the gateway hands out must carry the prefix: the docs assets (STANDARDS 20), the OpenAPI
``servers`` with the relative ``tokenUrl`` (STANDARDS 19), the version index, and redirects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import PROXY_PREFIX
from tests.e2e.nginx import Nginx

pytestmark = pytest.mark.e2e

ASSETS = f"{PROXY_PREFIX}/docs-assets/"
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
def http(proxy: Nginx) -> Iterator[httpx.Client]:
    """A client that talks to nginx only: every path it requests starts with the prefix."""
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        yield client


def referenced_urls(page: str) -> list[str]:
    """What an HTML page makes a browser load: ``src`` and ``href`` attributes."""
    return re.findall(r'(?:src|href)="([^"]*)"', page)


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_docs_page_loads_its_assets_through_the_proxy(
    http: httpx.Client, version: int, page: str
) -> None:
    response = http.get(f"{PROXY_PREFIX}/apiv{version}/{page}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")

    urls = referenced_urls(response.text)
    script = f"{ASSETS}swagger-ui-bundle.js" if page == "docs" else f"{ASSETS}redoc.standalone.js"
    assert script in urls
    # Everything comes from the gateway under the prefix: no CDN, no path that skips the proxy.
    assert all(url.startswith(ASSETS) for url in urls), urls
    for url in urls:
        asset = http.get(url)
        assert asset.status_code == 200, url
        expected_type = ASSET_TYPES[url[url.rindex(".") :]]
        assert expected_type in asset.headers["content-type"], url
        assert asset.content, url
    # The page fetches its schema through the proxy as well (a JS string or ReDoc's spec-url).
    schema_url = re.escape(f"{PROXY_PREFIX}/apiv{version}/openapi.json")
    assert re.search(f"""['"]{schema_url}['"]""", response.text)


def oauth2_schemes(document: dict[str, Any]) -> dict[str, Any]:
    schemes: dict[str, Any] = document["components"]["securitySchemes"]
    return {name: scheme for name, scheme in schemes.items() if scheme["type"] == "oauth2"}


def test_openapi_names_the_prefixed_server_and_a_relative_token_url(
    http: httpx.Client, version: int
) -> None:
    response = http.get(f"{PROXY_PREFIX}/apiv{version}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    # Path-only and without a trailing slash; Swagger UI resolves "token" through the page URL.
    assert document["servers"] == [{"url": f"{PROXY_PREFIX}/apiv{version}"}]
    (scheme,) = oauth2_schemes(document).values()
    assert scheme["flows"]["password"]["tokenUrl"] == "token"
    # Computed per request: asking again does not accumulate servers.
    assert http.get(f"{PROXY_PREFIX}/apiv{version}/openapi.json").json() == document


def test_token_and_protected_route_through_the_proxy(http: httpx.Client, version: int) -> None:
    base = f"{PROXY_PREFIX}/apiv{version}"
    login = http.post(
        f"{base}/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert login.headers["cache-control"] == "no-store"
    token = login.json()["access_token"]
    assert login.json()["token_type"].lower() == "bearer"

    me = http.get(f"{base}/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"

    anonymous = http.get(f"{base}/users/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == f'Bearer realm="apiv{version}"'


def test_version_index_lists_urls_under_the_prefix(http: httpx.Client, version: int) -> None:
    response = http.get(f"{PROXY_PREFIX}/versions")
    assert response.status_code == 200
    entries = {entry["number"]: entry for entry in response.json()["versions"]}
    base = f"{PROXY_PREFIX}/apiv{version}"
    entry = entries[version]
    assert entry["path"] == base
    assert entry["docs_url"] == f"{base}/docs"
    assert entry["redoc_url"] == f"{base}/redoc"
    assert entry["openapi_url"] == f"{base}/openapi.json"
    assert entry["token_url"] == f"{base}/token"
    # A client can follow them through the proxy.
    assert http.get(entry["docs_url"]).status_code == 200
    assert http.get(entry["openapi_url"]).json()["servers"] == [{"url": base}]


def test_version_root_redirects_to_its_docs_under_the_prefix(
    http: httpx.Client, version: int
) -> None:
    response = http.get(f"{PROXY_PREFIX}/apiv{version}", follow_redirects=True)
    assert response.status_code == 200
    assert [r.headers["location"] for r in response.history] == [
        f"{PROXY_PREFIX}/apiv{version}/",
        f"{PROXY_PREFIX}/apiv{version}/docs",
    ]
    assert response.url.path == f"{PROXY_PREFIX}/apiv{version}/docs"
