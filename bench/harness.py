"""What every section shares: the run's settings, its temporary folder, the gateway working
folders, the reference servers, the checks made before measuring, and alternating wrk rounds.
"""

from __future__ import annotations

import compileall
import os
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from bench import client, wrk
from bench.processes import BenchError, Server, Servers, free_port

REPO = Path(__file__).resolve().parents[1]
APPS = Path(__file__).resolve().parent / "apps"
GATEWAY = Path(sys.executable).with_name("gateway")
EXPECTED_BODY = {"user": "alice"}
USERNAME = "alice"
ISSUER = "gateway"
VERSIONS_PACKAGE = "bench_versions"
# High enough never to answer 429 during a run: the limits are checked, never reached.
GENEROUS_LIMIT = "100000000/minute"
COUNTS = ("seconds", "rounds", "section_rounds", "starts", "connections", "warmup")
SQLITE_URL = "sqlite+aiosqlite:///./var/gateway.db"  # in the gateway's working folder


@dataclass(frozen=True)
class Config:
    """How long and how often to measure; every field has a ``BENCH_<NAME>`` variable."""

    seconds: int = 5  # one wrk run
    rounds: int = 5  # throughput rounds (each target once per round)
    section_rounds: int = 3  # rounds of the dispatch and login sections
    starts: int = 3  # start-up measurements per gateway size
    connections: int = 16  # see run.py for why not more
    warmup: int = 2  # seconds of wrk per server before its first measured run
    server_cpu: int = 0
    client_cpu: int = 1

    @classmethod
    def from_environment(cls, overrides: Mapping[str, int | None]) -> Config:
        values: dict[str, int] = {}
        for name in cls.__dataclass_fields__:
            given = overrides.get(name)
            raw = os.environ.get(f"BENCH_{name.upper()}")
            if given is not None:
                values[name] = given
            elif raw:
                try:
                    values[name] = int(raw)
                except ValueError:
                    message = f"BENCH_{name.upper()}={raw!r} is not a whole number"
                    raise BenchError(message) from None
        config = cls(**values)
        too_small = [name for name in COUNTS if getattr(config, name) < 1]
        if too_small:
            raise BenchError(f"{', '.join(too_small)} must be at least 1")
        return config


@dataclass(frozen=True)
class Target:
    """One URL of one server, measured with these headers."""

    name: str
    server: Server
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url + self.path


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without ``GATEWAY_*`` variables, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")}
    return env | extra


@dataclass
class GatewayDir:
    """A working folder for ``gateway serve``: ``settings.toml``, a versions package holding
    ``versions`` copies of ``apps/gateway_version.py``, a database (SQLite unless told) and one
    user."""

    path: Path
    versions: int
    password: str

    @classmethod
    def create(
        cls,
        path: Path,
        versions: int,
        secret_key: str,
        password: str,
        database_url: str = SQLITE_URL,
        modules: Sequence[str] = (),
    ) -> GatewayDir:
        """``modules`` names the ``apps/`` module of each version, from v1 up; by default
        every version is ``gateway_version``."""
        package = path / VERSIONS_PACKAGE
        package.mkdir(parents=True)
        (path / "var").mkdir()
        (package / "__init__.py").write_text('"""Bench versions, made by bench/harness.py."""\n')
        for number in range(1, versions + 1):
            module = modules[number - 1] if modules else "gateway_version"
            shutil.copyfile(APPS / f"{module}.py", package / f"v{number}.py")
        # Bytecode now, as an installed package has it, even under PYTHONDONTWRITEBYTECODE.
        compileall.compile_dir(package, quiet=1)
        (path / "settings.toml").write_text(settings_toml(secret_key, database_url))
        made = cls(path, versions, password)
        if not database_url.startswith("sqlite"):
            made.cli("db", "upgrade")  # the gateway upgrades only a local SQLite by itself
        made.cli("users", "add", USERNAME, "--password-stdin", stdin=password + "\n")
        return made

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(GATEWAY), *args],
            cwd=self.path,
            env=clean_environment(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"gateway {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def serve(self, servers: Servers, name: str, **env: str) -> Server:
        port = free_port()
        return servers.start(
            name,
            [str(GATEWAY), "serve", "--port", str(port)],
            port=port,
            cwd=self.path,
            env=clean_environment(**env),
            health_path="/healthz",
        )

    def login_form(self) -> dict[str, str]:
        return {"grant_type": "password", "username": USERNAME, "password": self.password}

    def login(self, server: Server, version: int = 1) -> str:
        """An access token from ``/apiv<version>/token``."""
        answer = client.post_form(f"{server.url}/apiv{version}/token", self.login_form())
        if answer.status != 200:
            raise BenchError(f"{server.name}: login at /apiv{version}/token: {answer.status}")
        token: str = answer.json()["access_token"]
        return token


def settings_toml(secret_key: str, database_url: str = SQLITE_URL) -> str:
    return f"""\
# Written by bench/harness.py for one benchmark run.
[server]
host = "127.0.0.1"

[auth]
secret_key = "{secret_key}"
issuer = "{ISSUER}"

[database]
url = "{database_url}"

[versions]
package = "{VERSIONS_PACKAGE}"

[ratelimit]
authenticated = "{GENEROUS_LIMIT}"
login_per_account = "{GENEROUS_LIMIT}"
login_per_address = "{GENEROUS_LIMIT}"
"""


def resign(token: str, secret_key: str) -> str:
    """A token with the same header and claims as ``token`` (a fresh ``jti``), signed here with
    PyJWT and the same key."""
    header = jwt.get_unverified_header(token)
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    claims["jti"] = uuid.uuid4().hex
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"kid": header["kid"]})


class Harness:
    """One benchmark run: its settings, its temporary folder and its secrets."""

    def __init__(self, config: Config, tmp: Path) -> None:
        self.config = config
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.secret_key = secrets.token_urlsafe(48)
        self.password = secrets.token_urlsafe(18)

    def servers(self) -> Servers:
        return Servers(self.config.server_cpu, self.logs)

    def gateway_dir(
        self,
        name: str,
        versions: int,
        database_url: str = SQLITE_URL,
        modules: Sequence[str] = (),
    ) -> GatewayDir:
        return GatewayDir.create(
            self.tmp / name, versions, self.secret_key, self.password, database_url, modules
        )

    def reference(
        self, servers: Servers, name: str, module: str, health_path: str = "/openapi.json"
    ) -> Server:
        """``bench/apps/<module>.py`` under uvicorn: one worker, uvloop and httptools when
        installed (uvicorn's ``auto``), no access log."""
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", f"bench.apps.{module}:app"]
        argv += ["--host", "127.0.0.1", "--port", str(port)]
        argv += ["--no-access-log", "--log-level", "warning"]
        env = clean_environment(BENCH_SECRET_KEY=self.secret_key, BENCH_ISSUER=ISSUER)
        return servers.start(name, argv, port=port, cwd=REPO, env=env, health_path=health_path)

    def wrk(self, load: wrk.Load) -> wrk.Result:
        return wrk.run(load, self.config.client_cpu)

    def load(self, target: Target, seconds: int | None = None) -> wrk.Load:
        return wrk.Load(
            target.url,
            seconds or self.config.seconds,
            self.config.connections,
            headers=target.headers,
        )

    def warm_up(self, servers: Servers, targets: Sequence[Target]) -> None:
        for target in targets:
            with servers.only(target.server):
                self.wrk(self.load(target, self.config.warmup))

    def alternate(
        self, servers: Servers, targets: Sequence[Target], rounds: int
    ) -> dict[str, list[wrk.Result]]:
        """``rounds`` rounds, each running every target once; each round starts one target
        further on, so that no target always runs first or last."""
        results: dict[str, list[wrk.Result]] = {target.name: [] for target in targets}
        for number in range(rounds):
            shift = number % len(targets)
            for target in [*targets[shift:], *targets[:shift]]:
                with servers.only(target.server):
                    result = self.wrk(self.load(target))
                results[target.name].append(result)
                progress(
                    f"  round {number + 1}/{rounds} {target.name:<8} {result.rps:9,.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
                    + (f"  errors {errors(result)}" if errors(result) else "")
                )
        return results


def errors(result: wrk.Result) -> int:
    return result.status_errors + result.socket_errors


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def expect_ok(target: Target, body: Any = EXPECTED_BODY) -> None:
    """The target must answer 200 with the expected body: a benchmark of 401s is worthless."""
    answer = client.request(target.url, headers=target.headers)
    if answer.status != 200 or answer.json() != body:
        raise BenchError(
            f"{target.name}: GET {target.path} answered {answer.status} {answer.body[:200]!r}, "
            f"not 200 {body}"
        )


def expect_refused(target: Target) -> None:
    """Without its token the target must answer 401: authentication is really on."""
    answer = client.request(target.url)
    if answer.status != 401:
        raise BenchError(f"{target.name}: GET {target.path} with no token answered {answer.status}")
