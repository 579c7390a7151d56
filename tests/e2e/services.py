"""PostgreSQL and Redis servers of a test's own, on free ports, that the test may stop and start.

Fault tests take these down on purpose; doing that to the machine's shared servers would break
every other test. Both come from the machine's Debian packages (postgresql, redis-server); when
they are missing, the tests that need them are skipped with a message that says so.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
REDIS_SERVER = shutil.which("redis-server")


def wait_for_port(port: int, up: bool, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if (probe.connect_ex(("127.0.0.1", port)) == 0) == up:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not {'open' if up else 'close'} in {seconds} s")


def as_postgres(program: str, *args: str, check: bool = True, timeout: float = 60) -> None:
    """Run one of PostgreSQL's programs as the ``postgres`` user (initdb refuses root)."""
    subprocess.run(
        ["runuser", "-u", "postgres", "--", f"{PG_BIN[-1]}/{program}", *args],
        check=check,
        capture_output=True,
        timeout=timeout,
    )


@dataclass
class OwnPostgres:
    """A throwaway PostgreSQL cluster run as the ``postgres`` user, trust auth on 127.0.0.1."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        as_postgres("pg_ctl", "-D", str(self.data), *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", str(self.data / "log"), "-w", "start")
        wait_for_port(self.port, up=True)

    def stop(self) -> None:
        # Immediate: the way a crash or a lost host looks to the gateway.
        self._pg_ctl("-m", "immediate", "-w", "stop")
        wait_for_port(self.port, up=False)


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    if not PG_BIN or os.geteuid() != 0:
        pytest.skip("needs Debian's postgresql package and root (to run it as 'postgres')")
    data = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
    shutil.chown(data, "postgres", "postgres")
    as_postgres(
        "initdb", "-D", str(data), "--auth=trust", "--username=postgres", "-E", "UTF8", timeout=120
    )
    server = OwnPostgres(data, free_port())
    server.start()
    try:
        yield server
    finally:
        as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, up=True)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        wait_for_port(self.port, up=False)


@contextmanager
def own_redis() -> Iterator[OwnRedis]:
    if REDIS_SERVER is None:
        pytest.skip("needs Debian's redis-server package (apt-get install redis-server)")
    server = OwnRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.stop()
