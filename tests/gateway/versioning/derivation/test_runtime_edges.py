"""The runtime on the awkward parts of HTTP: a compressing successor, a moved path with an
escaped parameter, a converter that leaves no body, converters on the query, a converter that
cannot take a value, and ``users_me=False``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.testing import GatewayClient, local_settings, running_gateway

pytestmark = pytest.mark.anyio
PASSWORD = "a long enough password"


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[GatewayClient]:
    settings = local_settings(tmp_path, versions={"package": "tests.fixtures.derived_edges"})
    async with running_gateway(settings) as running:
        await running.add_user("alice", PASSWORD)
        yield running


async def get(gateway: GatewayClient, path: str, **options: object) -> httpx.Response:
    headers = await gateway.bearer_headers(1, "alice", PASSWORD)
    headers.update(options.pop("headers", {}))  # type: ignore[arg-type]
    return await gateway.http.request(
        str(options.pop("method", "GET")), path, headers=headers, **options
    )  # type: ignore[arg-type]


async def test_a_compressing_successor_is_asked_for_what_can_be_moved_back(
    gateway: GatewayClient,
) -> None:
    response = await get(gateway, "/apiv1/old-things/pen", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.json() == {"name": "pen", "size": "3"}
    refused = await get(
        gateway,
        "/apiv1/things/",
        method="POST",
        json={"title": "x"},
        headers={"Accept-Encoding": "gzip"},
    )
    assert refused.status_code == 422
    assert [error["loc"] for error in refused.json()["detail"]] == [
        ["body", "name"],
        ["body", "title"],
    ]


async def test_a_moved_path_keeps_its_escaped_parameter(gateway: GatewayClient) -> None:
    response = await get(gateway, "/apiv1/old-things/a%20b")
    assert response.json() == {"name": "a b", "size": "3"}
    assert (await get(gateway, "/apiv1/things/pen")).status_code == 404


async def test_a_converter_that_answers_204_sends_no_body(gateway: GatewayClient) -> None:
    response = await get(gateway, "/apiv1/things/", method="POST", json={"name": "x", "size": "2"})
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers
    assert "content-type" not in response.headers


async def test_a_request_converter_changes_the_query_of_a_bodiless_request(
    gateway: GatewayClient,
) -> None:
    response = await get(gateway, "/apiv1/search?q=pen")
    assert response.json() == {"name": "PEN", "size": "0"}


async def test_a_value_a_converter_cannot_take_is_refused_by_the_successor(
    gateway: GatewayClient,
) -> None:
    response = await get(
        gateway, "/apiv1/things/", method="POST", json={"name": "x", "size": "abc"}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["input"]) == (["body", "size"], "abc")


async def test_users_me_false_leaves_the_caller_out(gateway: GatewayClient) -> None:
    assert (await get(gateway, "/apiv1/users/me")).status_code == 404
    document = (await gateway.http.get("/apiv1/openapi.json")).json()
    assert "/users/me" not in document["paths"]
    assert (await get(gateway, "/apiv2/users/me")).status_code == 401  # a v1 token
