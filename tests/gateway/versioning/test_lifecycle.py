"""A version's lifecycle, from settings to what clients see: deprecation and sunset headers,
retirement, preview marks, unknown versions, and choosing a version by header under /api."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from gateway import Settings, SettingsError, create_app, load_settings
from tests.conftest import SECRET, AddUser, bearer, client_for, login

pytestmark = pytest.mark.anyio

DEPRECATED = {"status": "deprecated", "deprecated_at": "2026-11-01", "sunset": "2027-06-30"}
DEPRECATION = "@1793491200"  # 2026-11-01T00:00:00Z
SUNSET = "Wed, 30 Jun 2027 00:00:00 GMT"


@pytest.fixture
def lifecycle(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {"v1": DEPRECATED})


@pytest.fixture
def settings(make_settings: Callable[..., Settings], lifecycle: dict[str, Any]) -> Settings:
    return make_settings(versions=lifecycle)


@pytest.fixture
async def alice(add_user: AddUser) -> None:
    await add_user("alice")


@pytest.mark.parametrize("root_path", ["", "/gw"])
async def test_deprecated_version_says_so_on_every_response(
    app: FastAPI, alice: None, root_path: str
) -> None:
    async with client_for(app, root_path=root_path) as client:
        token = await login(client, 1) if not root_path else ""
        responses = [
            await client.get(f"{root_path}/apiv1/docs"),
            await client.get(f"{root_path}/apiv1/openapi.json"),
            await client.post(f"{root_path}/apiv1/token", data={"grant_type": "password"}),
            await client.get(f"{root_path}/apiv1/items/", headers=bearer(token)),
            await client.get(f"{root_path}/apiv1/nothing-here"),
        ]
        for response in responses:
            assert response.headers["deprecation"] == DEPRECATION, response.url
            assert response.headers["sunset"] == SUNSET
            assert response.headers["link"] == (
                f'<{root_path}/apiv2/docs>; rel="successor-version", '
                f'<{root_path}/apiv1/docs>; rel="deprecation"'
            )
        current = await client.get(f"{root_path}/apiv2/docs")
        assert "deprecation" not in current.headers
        assert "link" not in current.headers


async def test_deprecated_openapi_marks_every_operation(client: httpx.AsyncClient) -> None:
    document = (await client.get("/apiv1/openapi.json")).json()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert operations
    assert all(operation["deprecated"] is True for operation in operations)
    assert document["info"]["title"].endswith("(deprecated)")
    assert document["info"]["description"].startswith(
        "> **Deprecated** since 2026-11-01; it stops working on 2027-06-30. "
        "Move to [v2](../apiv2/docs)."
    )
    assert document["info"]["x-lifecycle"] == {
        "status": "deprecated",
        "deprecated_at": "2026-11-01",
        "sunset": "2027-06-30",
        "successor": 2,
    }
    current = (await client.get("/apiv2/openapi.json")).json()
    assert not any(
        op.get("deprecated") for item in current["paths"].values() for op in item.values()
    )


async def test_docs_link_to_the_other_versions(client: httpx.AsyncClient) -> None:
    one = (await client.get("/apiv1/openapi.json")).json()["info"]["description"]
    two = (await client.get("/apiv2/openapi.json")).json()["info"]["description"]
    assert one.endswith("Other versions: [v2](../apiv2/docs) (stable)")
    assert two.endswith("Other versions: [v1](../apiv1/docs) (deprecated)")


@pytest.mark.parametrize(
    "lifecycle", [{"v1": {"status": "retired", "sunset": "2027-06-30"}}], indirect=True
)
async def test_retired_version_is_gone_everywhere(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/apiv1/docs"),
        ("GET", "/apiv1/openapi.json"),
        ("POST", "/apiv1/token"),
        ("GET", "/apiv1/items/1"),
        ("DELETE", "/apiv1/items/1"),
        ("GET", "/apiv1/"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 410, path
        assert response.json() == {
            "error": "version_retired",
            "detail": "API version 1 has been retired",
            "successor": "/apiv2",
            "successor_docs": "/apiv2/docs",
        }
        assert response.headers["link"] == '</apiv2/docs>; rel="successor-version"'
        assert response.headers["sunset"] == SUNSET
    listing = (await client.get("/versions")).json()["versions"]
    assert [entry["status"] for entry in listing] == ["retired", "stable"]
    assert (await client.get("/apiv2/docs")).status_code == 200


async def test_unknown_version_is_a_json_404_listing_the_others(client: httpx.AsyncClient) -> None:
    response = await client.get("/apiv9/items/")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "There is no API version 'apiv9'",
        "versions": [
            {"number": 1, "path": "/apiv1", "status": "deprecated"},
            {"number": 2, "path": "/apiv2", "status": "stable"},
        ],
    }


@pytest.mark.parametrize("lifecycle", [{"v2": {"status": "preview"}}], indirect=True)
async def test_preview_is_marked_everywhere(client: httpx.AsyncClient) -> None:
    listing = (await client.get("/versions")).json()["versions"]
    assert listing[1]["status"] == "preview"
    page = (await client.get("/", headers={"Accept": "text/html"})).text
    assert "<td>preview</td>" in page
    info = (await client.get("/apiv2/openapi.json")).json()["info"]
    assert info["title"].endswith("(preview)")
    assert info["description"].startswith("> **Preview**")


async def test_listing_shows_dates_and_successor(client: httpx.AsyncClient) -> None:
    v1 = (await client.get("/versions")).json()["versions"][0]
    assert (v1["deprecated_at"], v1["sunset"], v1["successor"]) == ("2026-11-01", "2027-06-30", 2)
    page = (await client.get("/", headers={"Accept": "text/html"})).text
    assert "deprecated since 2026-11-01, sunset 2027-06-30; use v2" in page


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ({}, "/apiv2/docs"),
        ({"v2": {"status": "preview"}}, "/apiv1/docs"),
    ],
    indirect=["lifecycle"],
)
async def test_docs_redirects_to_the_default_version(
    client: httpx.AsyncClient, expected: str
) -> None:
    response = await client.get("/docs")
    assert response.status_code == 307
    assert response.headers["location"] == expected


async def test_api_serves_the_version_asked_for(client: httpx.AsyncClient, alice: None) -> None:
    token = await login(client, 2)
    by_default = await client.get("/api/items/", headers=bearer(token))
    assert by_default.status_code == 200
    assert by_default.headers["api-version"] == "2"
    assert by_default.json() == {"data": [], "next_cursor": None}
    v1_token = await login(client, 1)
    for ask in ({"API-Version": "1"}, {"API-Version": "v1"}):
        response = await client.get("/api/items/", headers={**ask, **bearer(v1_token)})
        assert response.status_code == 200
        assert response.json() == []
        assert response.headers["api-version"] == "1"
        assert response.headers["deprecation"] == DEPRECATION
    by_query = await client.get("/api/items/?api-version=1", headers=bearer(v1_token))
    assert by_query.headers["api-version"] == "1"
    assert by_query.json() == []


async def test_api_token_is_issued_by_the_serving_version(
    client: httpx.AsyncClient, alice: None
) -> None:
    form = {"grant_type": "password", "username": "alice", "password": "correct horse battery"}
    response = await client.post("/api/token", data=form, headers={"API-Version": "1"})
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert jwt.decode(token, SECRET, algorithms=["HS256"], audience="apiv1")["aud"] == "apiv1"
    assert (await client.get("/apiv1/users/me", headers=bearer(token))).status_code == 200
    assert (await client.get("/apiv2/users/me", headers=bearer(token))).status_code == 401
    default = await client.post("/api/token", data=form)
    assert default.headers["api-version"] == "2"


@pytest.mark.parametrize("asked", ["7", "latest", "v0", "2.0"])
async def test_api_refuses_unsupported_versions(client: httpx.AsyncClient, asked: str) -> None:
    response = await client.get("/api/items/", headers={"API-Version": asked})
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Unsupported API version {asked!r}; supported: 1, 2",
        "supported": ["1", "2"],
    }


async def test_api_docs_load_their_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert 'href="/docs-assets/swagger-ui.css"' in page.text
    document = (await client.get("/api/openapi.json")).json()
    assert document["servers"] == [{"url": "/api"}]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'status = "deprecated"',
            "versions.v1: a deprecated version needs deprecated_at (the date of its "
            "deprecation, sent in the Deprecation header)",
        ),
        (
            'status = "deprecated"\ndeprecated_at = 2026-11-01\nsunset = 2026-10-01',
            "versions.v1: sunset 2026-10-01 is earlier than deprecated_at 2026-11-01",
        ),
    ],
)
def test_bad_lifecycle_settings_are_one_line(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f"[versions.v1]\n{table}\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(path)
    assert str(raised.value) == f"invalid settings ({path} + environment): {message}"


def test_successor_must_exist(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(versions={"v1": {**DEPRECATED, "successor": 5}})
    with pytest.raises(SettingsError, match=r"versions.v1.successor: there is no version 5"):
        create_app(settings)
