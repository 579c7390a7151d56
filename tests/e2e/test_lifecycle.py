"""A version's life through the real server and CLI: a deprecated v1, a retired one, /api
negotiation, and usage counts written by the server and read by ``gateway versions usage``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Workdir, get_token, start_server

pytestmark = pytest.mark.e2e

SETTINGS = """
[versions.v1]
status = "deprecated"
deprecated_at = 2026-11-01
sunset = 2027-06-30
"""


def test_deprecation_negotiation_and_usage(tmp_path: Path) -> None:
    folder = Workdir.create(tmp_path, SETTINGS)
    folder.add_user("alice")
    server = start_server(folder)
    try:
        token = get_token(server.url, 1)
        items = httpx.get(
            f"{server.url}/apiv1/items/", headers={"Authorization": f"Bearer {token}"}
        )
        assert items.status_code == 200
        assert items.headers["deprecation"] == "@1793491200"
        assert items.headers["sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
        assert items.headers["link"] == (
            '</apiv2/docs>; rel="successor-version", </apiv1/docs>; rel="deprecation"'
        )
        negotiated = httpx.get(
            f"{server.url}/api/items/",
            headers={"Authorization": f"Bearer {token}", "API-Version": "1"},
        )
        assert negotiated.status_code == 200
        assert negotiated.headers["api-version"] == "1"
        assert httpx.get(f"{server.url}/docs").headers["location"] == "/apiv2/docs"
    finally:
        server.stop()  # a clean shutdown writes the counts still in memory

    usage = folder.gateway("versions", "usage", "1", "--json")
    assert usage.returncode == 0, usage.stderr
    [report] = json.loads(usage.stdout)
    by_principal = {row["principal"]: row["requests"] for row in report["principals"]}
    assert by_principal == {"alice": 3}  # the login, the call, the negotiated call
    listing = folder.gateway("versions", "list")
    assert "deprecated  2026-11-01  2027-06-30  v2" in listing.stdout


def test_retired_version_is_gone(tmp_path: Path) -> None:
    folder = Workdir.create(tmp_path, '[versions.v1]\nstatus = "retired"\n')
    server = start_server(folder)
    try:
        for path in ("/apiv1/docs", "/apiv1/token", "/apiv1/items/"):
            response = httpx.get(server.url + path)
            assert response.status_code == 410
            assert response.json()["successor"] == "/apiv2"
        assert httpx.get(f"{server.url}/apiv2/docs").status_code == 200
        unknown = httpx.get(f"{server.url}/apiv7/items/")
        assert unknown.status_code == 404
        assert [v["number"] for v in unknown.json()["versions"]] == [2]
    finally:
        server.stop()
