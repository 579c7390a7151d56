"""Two ``gateway serve`` processes on one PostgreSQL and one Redis, behind nginx configured with
``deploy/nginx-gateway.conf``, behave as one gateway (STANDARDS 29)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import REPO, Server, Workdir, free_port, start_server
from tests.e2e.nginx import MISSING as NGINX_MISSING
from tests.e2e.nginx import NGINX
from tests.gateway.auth.test_ratelimit import REDIS_HOST, REDIS_PORT, START_REDIS, redis_answers
from tests.postgres import fresh_database

pytestmark = pytest.mark.e2e

WRAPPER = """daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
{user}
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/gateway.conf;
}}
"""


def nginx_in_front(folder: Path, port: int, first: int, second: int) -> subprocess.Popen[bytes]:
    """nginx running the shipped example configuration, with only its ports changed."""
    example = (REPO / "deploy" / "nginx-gateway.conf").read_text()
    for shipped, actual in (("8001", first), ("8002", second)):
        example = example.replace(f"127.0.0.1:{shipped}", f"127.0.0.1:{actual}")
    example = example.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    (folder / "gateway.conf").write_text(example)
    user = "user root root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(WRAPPER.format(folder=folder, user=user))
    process = subprocess.Popen(
        [str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError((folder / "error.log").read_text())


@pytest.fixture
def shared_redis() -> str:
    if not redis_answers():
        pytest.skip(f"Redis is not running at {REDIS_HOST}:{REDIS_PORT}; start it: {START_REDIS}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture
def two_instances(tmp_path: Path, shared_redis: str) -> Iterator[tuple[Workdir, str]]:
    # A database of this test's own, made and dropped through an event loop in a helper thread.
    with anyio.from_thread.start_blocking_portal() as portal:
        manager = fresh_database()
        url = portal.call(manager.__aenter__)
        try:
            folder = Workdir.create(
                tmp_path,
                f'[server]\nenvironment = "production"\n[database]\nurl = "{url}"\n'
                f'[auth]\nsecret_key = "{"s" * 48}"\n'
                f'[ratelimit]\nstorage_url = "{shared_redis}"\nlogin_per_account = "4/minute"\n',
            )
            folder.env.pop("GATEWAY_RATELIMIT__LOGIN_PER_ACCOUNT", None)
            assert folder.gateway("db", "upgrade").returncode == 0
            yield folder, url
        finally:
            portal.call(manager.__aexit__, None, None, None)


def login(server: Server, username: str, password: str = PASSWORD) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password}
    return httpx.post(f"{server.url}/apiv2/token", data=form)


def me(base_url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{base_url}/apiv2/users/me", headers=headers).status_code


def test_two_instances_behave_as_one(two_instances: tuple[Workdir, str], tmp_path: Path) -> None:
    if not NGINX.is_file():
        pytest.skip(NGINX_MISSING)
    folder, _ = two_instances
    first, second = start_server(folder), start_server(folder)
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    proxy_port = free_port()
    proxy = nginx_in_front(proxy_dir, proxy_port, first.port, second.port)
    try:
        # A user added with the CLI while both serve logs in on both.
        user = f"user-{uuid.uuid4().hex[:12]}"
        folder.add_user(user)
        on_first, on_second = login(first, user), login(second, user)
        assert on_first.status_code == on_second.status_code == 200

        # A token issued by one is accepted by the other.
        token = on_first.json()["access_token"]
        assert me(second.url, token) == 200

        # A revocation on one is honoured by the other within a second.
        assert httpx.post(f"{first.url}/apiv2/revoke", data={"token": token}).status_code == 200
        deadline = time.monotonic() + 1.0
        while me(second.url, token) == 200:
            assert time.monotonic() < deadline, "the other instance still accepts the token"
            time.sleep(0.05)

        # The login limit (4 failures a minute per account) is one budget across both: the two
        # successes above gave their units back, and the right password is refused once it is
        # spent, wherever the failures happened.
        answers = [
            login(server, user, "wrong password").status_code
            for server in (first, second, first, second)
        ]
        assert answers == [400, 400, 400, 400]
        limited = login(first, user)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1

        # Through nginx, requests reach both instances and carry the caller's request id.
        proxied = f"http://127.0.0.1:{proxy_port}"
        seen = set()
        for n in range(6):
            response = httpx.get(f"{proxied}/versions", headers={"X-Request-ID": f"probe-{n}"})
            assert response.status_code == 200
            assert response.headers["x-request-id"] == f"probe-{n}"
        for server in (first, second):
            if "probe-" in server.output():
                seen.add(server.port)
        assert seen == {first.port, second.port}
    finally:
        proxy.send_signal(signal.SIGQUIT)
        proxy.wait(timeout=10)
        first.stop()
        second.stop()


def test_serve_runs_worker_processes(tmp_path: Path) -> None:
    folder = Workdir.create(tmp_path)
    server = start_server(folder, "--workers", "2")
    try:
        answers = {httpx.get(f"{server.url}/healthz").status_code for _ in range(10)}
        assert answers == {200}
        deadline = time.monotonic() + 15
        while server.output().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        assert server.output().count("Started server process") == 2
    finally:
        server.stop()
