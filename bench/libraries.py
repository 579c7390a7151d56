"""Peers: the route users really call, ``GET /apiv2/users/me`` (the bearer token verified and the
caller loaded from the database on every request), served by the gateway, by a hand-written
FastAPI app and by the libraries a user would pick instead, each built as its README builds it
(``bench/peers/<peer>/app.py``), all in one alternation:

- G, H, Cadwyn, router-versioning, versionizer: ``/apiv2/users/me`` on SQLite (WAL);
- G-ping, H-ping: ``/apiv2/ping``, the same check and no database, for the route next to it;
- G-pg, H-pg: ``/apiv2/users/me`` on PostgreSQL (asyncpg), in a database made for the run on
  the server at ``BENCH_POSTGRESQL_URL`` (default: the one the tests use); skipped, and said so,
  when none answers. PostgreSQL itself runs on whichever core it likes: it is not pinned.

Every app but the gateway shares ``bench/apps/accounts.py``: the gateway's users table, engine
settings and SQLite pragmas, R2's PyJWT check and the same lookup, so that only the way the
versions are built differs. Each serves two versions and a token route, and reads its own copy
of the gateway's SQLite database (``gateway users add`` wrote the user). The peers run from
their own virtualenvs, ``bench/.venvs/<peer>``, which ``make bench`` makes from the pinned
``bench/peers/<peer>/requirements.txt``.

The issue's targets: G >= 2x every peer on ``/users/me``; G >= 1.5x H on both routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench import client, wrk
from bench.client import bearer
from bench.harness import (
    EXPECTED_BODY,
    ISSUER,
    REPO,
    GatewayDir,
    Harness,
    Target,
    clean_environment,
    expect_ok,
    expect_refused,
    progress,
)
from bench.processes import BenchError, Server, Servers, free_port
from bench.report import Section, table
from bench.stats import Check, Spread, ratio

ME_PATH = "/apiv2/users/me"
PING_PATH = "/apiv2/ping"
VENVS = REPO / "bench" / ".venvs"
HAND_WRITTEN_APP = "bench.apps.fastapi_db:app"
POSTGRESQL_URL = os.environ.get(
    "BENCH_POSTGRESQL_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PEER_TARGET = 2.0  # G / each peer on /users/me
HAND_WRITTEN_TARGET = 1.5  # G / H on each route


@dataclass(frozen=True)
class Peer:
    """A peer library: its app in ``bench/peers/<folder>``, run from ``bench/.venvs/<folder>``."""

    name: str
    folder: str
    distribution: str
    how: str  # how its README versions the paths
    health_path: str  # a page that answers 200 once the app is up

    @property
    def python(self) -> Path:
        return VENVS / self.folder / "bin" / "python"

    @property
    def app(self) -> str:
        return f"bench.peers.{self.folder}.app:app"

    def versions(self) -> str:
        """``Cadwyn 8.2.0 on FastAPI 0.165.0``, asked of its virtualenv."""
        if not self.python.exists():
            raise BenchError(
                f"{self.python.parent.parent.relative_to(REPO)} is missing: `make bench` makes it "
                f"from bench/peers/{self.folder}/requirements.txt"
            )
        script = "import sys, importlib.metadata as m; print(*map(m.version, sys.argv[1:]))"
        done = subprocess.run(
            [str(self.python), "-c", script, self.distribution, "fastapi"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"{self.name}: its virtualenv cannot say its versions: {done.stderr}")
        library, fastapi = done.stdout.split()
        return f"{self.distribution} {library} on FastAPI {fastapi}"


PEERS = (
    Peer("Cadwyn", "cadwyn", "cadwyn", "path versions", "/docs"),
    Peer(
        "router-versioning",
        "router_versioning",
        "fastapi-router-versioning",
        "prefix /apiv{major}",
        "/apiv2/docs",
    ),
    Peer("versionizer", "versionizer", "fastapi-versionizer", "prefix /apiv{major}", "/apiv2/docs"),
)


@dataclass
class PostgreSQL:
    """A database made for this run, or why there is none."""

    url: str | None
    reason: str = ""


async def _execute(server_url: str, statement: str) -> None:
    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def postgresql_database() -> Iterator[PostgreSQL]:
    """A fresh database on the PostgreSQL server, dropped afterwards; ``url`` is None when the
    server does not answer."""
    name = f"gateway_bench_{uuid.uuid4().hex[:12]}"
    shown = make_url(POSTGRESQL_URL).render_as_string(hide_password=True)
    try:
        asyncio.run(_execute(POSTGRESQL_URL, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        yield PostgreSQL(None, f"no PostgreSQL at {shown} ({error}); set BENCH_POSTGRESQL_URL")
        return
    url = make_url(POSTGRESQL_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield PostgreSQL(url)
    finally:
        asyncio.run(_execute(POSTGRESQL_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def copy_database(source: Path, target: Path) -> str:
    """A copy of a SQLite database, through SQLite's backup; returns its SQLAlchemy URL."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    return f"sqlite+aiosqlite:///{target}"


def serve_app(
    harness: Harness,
    servers: Servers,
    name: str,
    app: str,
    database_url: str,
    *,
    python: Path = Path(sys.executable),
    health_path: str = "/apiv2/docs",
) -> Server:
    """An app under uvicorn as ``Harness.reference`` serves one, with its database's URL."""
    port = free_port()
    argv = [str(python), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--no-access-log", "--log-level", "warning"]
    env = clean_environment(
        BENCH_SECRET_KEY=harness.secret_key, BENCH_ISSUER=ISSUER, BENCH_DATABASE_URL=database_url
    )
    return servers.start(name, argv, port=port, cwd=REPO, env=env, health_path=health_path)


def expect_status(target: Target, status: int, why: str) -> None:
    answer = client.request(target.url, headers=target.headers)
    if answer.status != status:
        raise BenchError(f"{target.name}: GET {target.path} {why} answered {answer.status}")


def answer_of(target: Target) -> Any:
    answer = client.request(target.url, headers=target.headers)
    if answer.status != 200:
        raise BenchError(f"{target.name}: GET {target.path} answered {answer.status}")
    return answer.json()


def check_group(targets: list[Target], folder: GatewayDir, gateway_token: str) -> None:
    """Every target answers what the first (the gateway) does, refuses no token and a token
    for another version, and accepts the gateway's own token: the same check everywhere."""
    body = answer_of(targets[0]) if targets[0].path == ME_PATH else EXPECTED_BODY
    for target in targets:
        expect_ok(target, body)
        expect_refused(target)
        for_apiv1 = bearer(folder.login(target.server, version=1))
        expect_status(replace(target, headers=for_apiv1), 401, "with a token for apiv1")
        expect_ok(replace(target, headers=bearer(gateway_token)), body)


def run(harness: Harness) -> Section:
    built = {peer.name: peer.versions() for peer in PEERS}
    progress("peers: starting the gateway, the hand-written app and " + ", ".join(built))
    with postgresql_database() as postgresql, harness.servers() as servers:
        folder = harness.gateway_dir("peers-g", versions=2)
        database = folder.path / "var" / "gateway.db"
        copies = harness.tmp / "peers-databases"
        copies.mkdir()
        g = folder.serve(servers, "G")
        h = serve_app(
            harness, servers, "H", HAND_WRITTEN_APP, copy_database(database, copies / "h.db")
        )
        peers = [
            serve_app(
                harness,
                servers,
                peer.name,
                peer.app,
                copy_database(database, copies / f"{peer.folder}.db"),
                python=peer.python,
                health_path=peer.health_path,
            )
            for peer in PEERS
        ]
        token = folder.login(g, version=2)
        on_sqlite = [
            Target(server.name, server, ME_PATH, bearer(folder.login(server, version=2)))
            for server in [h, *peers]
        ]
        on_sqlite.insert(0, Target("G", g, ME_PATH, bearer(token)))
        pings = [
            Target("G-ping", g, PING_PATH, bearer(token)),
            Target("H-ping", h, PING_PATH, on_sqlite[1].headers),
        ]
        groups = [(on_sqlite, folder, token), (pings, folder, token)]
        if postgresql.url:
            pg_folder = harness.gateway_dir("peers-g-pg", versions=2, database_url=postgresql.url)
            g_pg = pg_folder.serve(servers, "G-pg")
            h_pg = serve_app(harness, servers, "H-pg", HAND_WRITTEN_APP, postgresql.url)
            pg_token = pg_folder.login(g_pg, version=2)
            on_pg = [
                Target("G-pg", g_pg, ME_PATH, bearer(pg_token)),
                Target("H-pg", h_pg, ME_PATH, bearer(pg_folder.login(h_pg, version=2))),
            ]
            groups.append((on_pg, pg_folder, pg_token))
        else:
            progress(f"peers: {postgresql.reason}: measuring SQLite only")
        targets = [target for group, _, _ in groups for target in group]
        for group, gateway_folder, gateway_token in groups:
            check_group(group, gateway_folder, gateway_token)
        progress("peers: warming up")
        harness.warm_up(servers, targets)
        results = harness.alternate(servers, targets, harness.config.section_rounds)
    return summarise(results, built, postgresql.reason)


def place(name: str) -> tuple[str, str, str]:
    """A target's route, its database, and the gateway target it is compared with."""
    if name.endswith("-ping"):
        return PING_PATH, "none", "G-ping"
    if name.endswith("-pg"):
        return ME_PATH, "PostgreSQL", "G-pg"
    return ME_PATH, "SQLite (WAL)", "G"


def what(name: str, built: Mapping[str, str]) -> str:
    fastapi = f"FastAPI {installed_version('fastapi')}"
    if name.startswith("G"):
        return f"the gateway ({fastapi})"
    if name.startswith("H"):
        return f"hand-written: one {fastapi} app per version, mounted (`fastapi_db.py`)"
    peer = next(peer for peer in PEERS if peer.name == name)
    return f"{built[name]}, {peer.how}"


def summarise(
    results: dict[str, list[wrk.Result]], built: Mapping[str, str], no_postgresql: str
) -> Section:
    rps = {name: Spread.of(r.rps for r in runs) for name, runs in results.items()}
    rows = []
    for name, runs in results.items():
        route, database, gateway = place(name)
        rows.append(
            [
                f"**{name}**",
                what(name, built),
                f"`{route}`",
                database,
                rps[name].show(),
                Spread.of(r.p50_ms for r in runs).show(2),
                Spread.of(r.p99_ms for r in runs).show(2),
                str(sum(r.status_errors for r in runs)),
                str(sum(r.socket_errors for r in runs)),
                f"{ratio(rps[gateway], rps[name]):.2f}x",
            ]
        )
    lookups = [
        (f"the lookup from {database}, in {who}", 1e6 / rps[slow].median - 1e6 / rps[fast].median)
        for who, database, slow, fast in (
            ("G", "SQLite", "G", "G-ping"),
            ("H", "SQLite", "H", "H-ping"),
            ("G", "PostgreSQL", "G-pg", "G-ping"),
            ("H", "PostgreSQL", "H-pg", "H-ping"),
        )
        if slow in rps
    ]
    lines = [
        f"`GET {ME_PATH}` with a bearer token, the caller loaded from the database on every "
        f"request, and `GET {PING_PATH}`, the same check and no database; median (min-max) "
        "over rounds. Every app serves two versions and its own token route. H and the peers "
        "verify the token with PyJWT on every request, as R2 does, and read the caller through "
        "a SQLAlchemy `AsyncSession` on the gateway's engine settings; the gateway verifies a "
        "token once and keeps it until it expires, and reads the caller as a lookup "
        "(`gateway/storage/reads.py`): on a SQLite file on the event loop's own connection, "
        "on PostgreSQL in one round trip on an autocommit connection.",
        "",
        *table(
            [
                "target",
                "built with",
                "route",
                "database",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "non-2xx/3xx",
                "socket errors",
                "gateway / it",
            ],
            rows,
        ),
        "",
        "Microseconds of one core per request (1 / median requests/s) that the database adds:",
        "",
        *table(["cost of", "us per request"], [[w, f"{us:.1f}"] for w, us in lookups]),
    ]
    if no_postgresql:
        lines += ["", f"PostgreSQL not measured: {no_postgresql}."]
    checks = [
        Check(f"G / {peer.name}", ratio(rps["G"], rps[peer.name]), PEER_TARGET) for peer in PEERS
    ]
    checks += [
        Check(f"{g} / {h}", ratio(rps[g], rps[h]), HAND_WRITTEN_TARGET)
        for g, h in (("G", "H"), ("G-ping", "H-ping"), ("G-pg", "H-pg"))
        if g in rps
    ]
    bars = [("G", rps["G"]), ("hand-written", rps["H"])]
    bars += [(peer.name, rps[peer.name]) for peer in PEERS]
    return Section(
        "Peers: the database route against hand-written FastAPI and the versioning libraries",
        lines,
        checks=checks,
        bars=bars,
        chart="peers",
        chart_title=f"GET {ME_PATH}, the caller loaded from SQLite (WAL) on every request",
    )
