"""``/users/me`` comes with every version app unless the module leaves it out."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import create_version_app
from gateway.testing import local_settings, running_gateway

pytestmark = pytest.mark.anyio
PASSWORD = "a long enough password"


def test_every_version_app_has_it_unless_left_out() -> None:
    assert "/users/me" in create_version_app().openapi()["paths"]
    assert "/users/me" not in create_version_app(users_me=False).openapi()["paths"]


async def test_a_module_that_leaves_it_out_may_serve_its_own(tmp_path: Path) -> None:
    versions = {"package": "tests.fixtures.own_users_me", "entry_points": False}
    async with running_gateway(local_settings(tmp_path, versions=versions)) as gateway:
        await gateway.add_user("alice", PASSWORD)
        own = await gateway.http.get(
            "/apiv1/users/me", headers=await gateway.bearer_headers(1, "alice", PASSWORD)
        )
        assert own.json() == {"me": "alice"}
        none = await gateway.http.get(
            "/apiv2/users/me", headers=await gateway.bearer_headers(2, "alice", PASSWORD)
        )
        assert none.status_code == 404
