"""The schema through the CLI on PostgreSQL: a database that is behind stops ``gateway serve``
with one line naming the command to run, and ``gateway db upgrade`` brings it up to date."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from tests.e2e.conftest import Workdir, free_port, one_line, start_server
from tests.postgres import fresh_database

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


async def test_serve_refuses_a_database_behind_and_db_upgrade_fixes_it(tmp_path: Path) -> None:
    async with fresh_database() as url:
        folder = Workdir.create(
            tmp_path,
            f'[server]\nenvironment = "production"\n[database]\nurl = "{url}"\n'
            f'[auth]\nsecret_key = "{"k" * 40}"\n',
        )
        refused = folder.gateway("serve", "--port", str(free_port()))
        assert refused.returncode == 1
        line = one_line(refused.stderr)
        assert "is behind the code (empty -> 0002, items_0001): run `gateway db upgrade`" in line
        assert "password" not in line

        behind = folder.gateway("db", "current")
        assert behind.returncode == 1
        assert behind.stdout.splitlines() == ["database: empty", "code:     0002, items_0001"]

        upgraded = folder.gateway("db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert upgraded.stdout.strip().endswith(": empty -> 0002, items_0001")
        again = folder.gateway("db", "upgrade")
        assert again.stdout.strip().endswith("is current (0002, items_0001)")

        folder.add_user("alice")
        server = start_server(folder)
        try:
            ready = await anyio.to_thread.run_sync(httpx.get, f"{server.url}/readyz")
            assert ready.json()["status"] == "ready"
        finally:
            server.stop()
