"""Faults, with real servers taken down: PostgreSQL and Redis of the test's own.

- PostgreSQL down: calls that need it answer 503 with a JSON error and no stack trace,
  ``/readyz`` answers 503, ``/healthz`` stays 200, and everything recovers by itself when the
  database is back, with nothing acknowledged before the fault lost.
- Redis (the shared rate-limit store) down: the token endpoint fails closed with 503, calls
  with valid tokens keep being served, and ``/readyz`` names the dependency that is down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server, Workdir, get_token, start_server
from tests.e2e.services import own_postgres, own_redis

pytestmark = pytest.mark.e2e
KEY = "k" * 48


def eventually(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(0.1)


def serve(tmp_path: Path, settings: str) -> tuple[Workdir, Server]:
    folder = Workdir.create(tmp_path, f'[auth]\nsecret_key = "{KEY}"\n{settings}')
    upgraded = folder.gateway("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    folder.add_user("alice")
    return folder, start_server(folder)


def assert_clean_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in response.text
    assert "sqlalchemy" not in response.text.lower()
    assert {"detail", "error"} & response.json().keys()


def test_database_outage_and_recovery(tmp_path: Path) -> None:
    with own_postgres() as database:
        _, server = serve(tmp_path, f'[database]\nurl = "{database.url}"\n')
        try:
            token = get_token(server.url, 2)
            auth = {"Authorization": f"Bearer {token}"}
            created = httpx.post(
                f"{server.url}/apiv2/items/",
                headers=auth,
                json={"title": "kept", "price": {"amount": "1.00"}},
            )
            assert created.status_code == 201
            me = f"{server.url}/apiv2/users/me"
            assert httpx.get(me, headers=auth).status_code == 200

            database.stop()
            assert_clean_503(httpx.get(f"{server.url}/apiv2/items/", headers=auth, timeout=20))
            assert_clean_503(httpx.get(me, headers=auth, timeout=20))
            assert_clean_503(
                httpx.post(
                    f"{server.url}/apiv2/token",
                    data={"grant_type": "password", "username": "alice", "password": "x" * 9},
                    timeout=20,
                )
            )
            ready = httpx.get(f"{server.url}/readyz", timeout=20)
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "unreachable"
            assert httpx.get(f"{server.url}/healthz").status_code == 200

            database.start()
            eventually(lambda: httpx.get(f"{server.url}/readyz").status_code == 200)
            listing = httpx.get(f"{server.url}/apiv2/items/", headers=auth)
            assert listing.status_code == 200
            assert [item["title"] for item in listing.json()["data"]] == ["kept"]
            assert httpx.get(me, headers=auth).json()["username"] == "alice"
        finally:
            server.stop()


def test_rate_limit_store_outage_fails_closed_for_logins_only(tmp_path: Path) -> None:
    with own_redis() as redis:
        _, server = serve(tmp_path, f'[ratelimit]\nstorage_url = "{redis.url}"\n')
        try:
            token = get_token(server.url, 2)
            auth = {"Authorization": f"Bearer {token}"}
            redis.stop()
            login = httpx.post(
                f"{server.url}/apiv2/token",
                data={"grant_type": "password", "username": "alice", "password": "x" * 9},
                timeout=20,
            )
            assert_clean_503(login)
            assert "retry-after" in login.headers
            assert httpx.get(f"{server.url}/apiv2/users/me", headers=auth).status_code == 200
            ready = httpx.get(f"{server.url}/readyz", timeout=20)
            assert ready.status_code == 503
            assert ready.json()["checks"]["ratelimit"] == "unreachable"
            assert ready.json()["checks"]["database"] == "ok"

            redis.start()
            eventually(lambda: httpx.get(f"{server.url}/readyz").status_code == 200)
            # Logins resume by themselves once the store answers again (after a short back-off).
            form = {"grant_type": "password", "username": "alice", "password": PASSWORD}
            eventually(
                lambda: httpx.post(f"{server.url}/apiv2/token", data=form).status_code == 200
            )
        finally:
            server.stop()
