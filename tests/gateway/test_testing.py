"""``gateway.testing``: a started gateway, its client, and the user and token a test needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.testing import local_settings, running_gateway

pytestmark = pytest.mark.anyio
PASSWORD = "a long enough password"


def test_local_settings_keep_the_database_and_key_in_the_folder(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, auth={"access_token_minutes": 5})
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    assert settings.auth.secret_key_file == tmp_path / "secret.key"
    assert settings.auth.secret_key is not None
    assert settings.auth.access_token_minutes == 5


async def test_a_user_and_a_token_reach_a_protected_route(tmp_path: Path) -> None:
    async with running_gateway(local_settings(tmp_path)) as gateway:
        await gateway.add_user("alice", PASSWORD, ["items:read", "items:write"])
        headers = await gateway.bearer_headers(2, "alice", PASSWORD, scope="items:read")
        me = (await gateway.http.get("/apiv2/users/me", headers=headers)).json()
        assert me["username"] == "alice"
        assert me["scopes"] == ["items:read", "items:write"]
        assert me["token_scopes"] == ["items:read"]


async def test_a_refused_login_says_why(tmp_path: Path) -> None:
    async with running_gateway(local_settings(tmp_path)) as gateway:
        with pytest.raises(AssertionError, match=r"login refused: 400 .*invalid_grant"):
            await gateway.token(1, "nobody", PASSWORD)


WITHOUT_HTTPX = """
import sys
from pathlib import Path

sys.modules["httpx"] = None  # as if it were not installed
import anyio
from gateway.testing import local_settings, running_gateway

async def main():
    async with running_gateway(local_settings(Path(sys.argv[1]))):
        pass

try:
    anyio.run(main)
except ImportError as error:
    print(error)
"""


def test_it_imports_without_httpx_and_says_what_is_missing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX, str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "gateway.testing needs httpx" in done.stdout
