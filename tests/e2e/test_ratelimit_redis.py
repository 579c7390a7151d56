"""Two real ``gateway serve`` processes sharing one Redis count logins in one budget
(STANDARDS 8, 29)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Workdir, start_server
from tests.gateway.auth.test_ratelimit import REDIS_HOST, REDIS_PORT, START_REDIS, redis_answers

pytestmark = pytest.mark.e2e


def test_two_instances_share_login_limits(tmp_path: Path) -> None:
    if not redis_answers():
        pytest.skip(f"Redis is not running at {REDIS_HOST}:{REDIS_PORT}; start it: {START_REDIS}")
    folder = Workdir.create(tmp_path)
    folder.env["GATEWAY_RATELIMIT__STORAGE_URL"] = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    folder.env["GATEWAY_RATELIMIT__LOGIN_PER_ACCOUNT"] = "3/minute"
    # A name of this run's own: earlier runs' keys (they expire within the minute) cannot count.
    username = f"nobody-{uuid.uuid4().hex}"
    first = start_server(folder)
    try:
        second = start_server(folder)
        try:
            ready = httpx.get(f"{second.url}/readyz").json()
            assert ready == {"status": "ready", "checks": {"database": "ok", "ratelimit": "ok"}}
            answers = [
                httpx.post(
                    f"{server.url}/apiv1/token",
                    data={"grant_type": "password", "username": username, "password": "guess"},
                )
                for server in (first, second, first, second, first)
            ]
        finally:
            second.stop()
    finally:
        first.stop()
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429, 429]
    assert answers[3].json()["error"] == "slow_down"
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
