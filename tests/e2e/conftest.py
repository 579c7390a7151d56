"""A real ``gateway serve`` process on a free port, in a working folder of its own that holds a
copy of the shipped ``versions/`` package, a settings file and the SQLite database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import ALL_SCOPES, PASSWORD
from tests.e2e.nginx import MISSING as NGINX_MISSING
from tests.e2e.nginx import NGINX, Nginx, start_nginx
from tests.e2e.waiting import wait_until_healthy

REPO = Path(__file__).resolve().parents[2]
GATEWAY = Path(sys.executable).with_name("gateway")

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Workdir:
    """A folder laid out like a user's checkout: ``versions/`` and ``settings.toml``."""

    path: Path
    env: dict[str, str] = field(default_factory=dict)
    executable: Path = GATEWAY  # the ``gateway`` command to run, by default this environment's

    @classmethod
    def create(cls, path: Path, settings: str = "") -> Workdir:
        shutil.copytree(
            REPO / "versions", path / "versions", ignore=shutil.ignore_patterns("__pycache__")
        )
        (path / "settings.toml").write_text(settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        # Generous login limits: the journeys log the same user in many times a minute.
        env["GATEWAY_RATELIMIT__LOGIN_PER_ACCOUNT"] = "1000/minute"
        env["GATEWAY_RATELIMIT__LOGIN_PER_ADDRESS"] = "1000/minute"
        return cls(path, env)

    def gateway(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the ``gateway`` command in this folder."""
        return subprocess.run(
            [str(self.executable), *args],
            cwd=self.path,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def add_user(self, name: str = "alice", scopes: tuple[str, ...] = ALL_SCOPES) -> None:
        flags = [arg for scope in scopes for arg in ("--scope", scope)]
        done = self.gateway("users", "add", name, "--password-stdin", *flags, stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr


@dataclass
class Server:
    """A running ``gateway serve``; ``url`` is where a client reaches it."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(workdir: Workdir, *args: str, health_path: str = "/healthz") -> Server:
    port = free_port()
    log = workdir.path / f"server-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(workdir.executable), "serve", "--port", str(port), *args],
            cwd=workdir.path,
            env=workdir.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = Server(process, port, log)
    try:
        wait_until_healthy(process, server.url + health_path, "gateway serve", server.output, 30)
    except RuntimeError:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Workdir:
    folder = Workdir.create(tmp_path_factory.mktemp("gateway"))
    folder.add_user("alice")
    folder.add_user("reader", scopes=("items:read",))
    return folder


@pytest.fixture(scope="session")
def server(workdir: Workdir) -> Iterator[Server]:
    running = start_server(workdir)
    yield running
    running.stop()


# Helpers for the client and CLI journeys (test_oauth_clients.py, test_cli.py).


def get_token(
    base_url: str, version: int, username: str = "alice", password: str = PASSWORD
) -> str:
    """An access token from a running gateway's ``/apiv<version>/token``, by a plain form post."""
    response = httpx.post(
        f"{base_url}/apiv{version}/token",
        data={"grant_type": "password", "username": username, "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read without checking the signature (the server does that)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def one_line(stderr: str) -> str:
    """The CLI's failure line: asserts stderr is exactly one line with no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


# --- A gateway behind a real nginx under a path prefix (tests/e2e/nginx.py) ---------------------

PROXY_PREFIX = "/gw"


@pytest.fixture(scope="session")
def proxied_server(workdir: Workdir) -> Iterator[Server]:
    """A second ``gateway serve``, on the same working folder, told it is served under ``/gw``."""
    running = start_server(workdir, "--root-path", PROXY_PREFIX)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def proxy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Nginx]:
    """nginx on a free port passing ``/gw/...`` to ``proxied_server`` with the prefix stripped."""
    if not (NGINX.is_file() and os.access(NGINX, os.X_OK)):
        pytest.skip(NGINX_MISSING)
    upstream: Server = request.getfixturevalue("proxied_server")
    running = start_nginx(
        tmp_path_factory.mktemp("nginx"), free_port(), upstream.port, PROXY_PREFIX
    )
    yield running
    running.stop()


# --- Test outcome for fixtures: a fixture's teardown can tell whether its test failed ----------

PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report
