"""The processes under test: each server starts on a free port of 127.0.0.1, pinned to one core
with ``taskset``, in a session of its own, with its output in a log file.

``Servers`` owns the servers of one section and stops every one of them when the section ends,
however it ends (an error, Ctrl-C, SIGTERM). While one target is measured, ``Servers.only``
pauses the others (SIGSTOP), so that an idle server's timers (the gateway polls its database
twice a second) do not share the measured core.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench import client

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.01
_PR_SET_PDEATHSIG = 1


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def require_tools() -> None:
    """Stop with a clear message unless ``wrk`` and ``taskset`` are installed."""
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        packages = " ".join("util-linux" if tool == "taskset" else tool for tool in missing)
        raise BenchError(
            f"{' and '.join(missing)} not found: run `make bench` as root to install it, "
            f"or install it yourself: sudo apt-get install {packages}"
        )


def require_cores(*cpus: int) -> None:
    allowed = os.sched_getaffinity(0)
    if not set(cpus) <= allowed or len(set(cpus)) < len(cpus):
        raise BenchError(
            f"the benchmark pins the server and wrk to distinct cores {sorted(cpus)}, but this "
            f"process may use cores {sorted(allowed)}; set BENCH_SERVER_CPU and BENCH_CLIENT_CPU"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(cpu: int, argv: Sequence[str]) -> list[str]:
    """``argv`` run on core ``cpu`` only (taskset execs it: the pid stays the program's)."""
    return ["taskset", "-c", str(cpu), *argv]


def _die_with_parent() -> None:
    # If the benchmark itself is killed outright (SIGKILL), its servers go with it.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Server:
    """A running server; ``started_in`` is the time from its start to its first healthy answer."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    started_in: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int:
        """Resident memory, from ``/proc/<pid>/status`` (``VmRSS``)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise BenchError(f"{self.name}: no VmRSS for pid {self.process.pid}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def pause(self) -> None:
        if self.running:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.running:
            os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if not self.running:
            return
        self.resume()  # a stopped process would not act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Servers:
    """The servers of one section; leaving the ``with`` block stops them all."""

    def __init__(self, cpu: int, log_dir: Path) -> None:
        self.cpu = cpu
        self.log_dir = log_dir
        self._started: list[Server] = []

    def __enter__(self) -> Servers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        cwd: Path,
        env: Mapping[str, str],
        health_path: str = "/",
    ) -> Server:
        """Start ``argv`` pinned to this section's core and wait for ``health_path`` to answer
        200. The clock starts just before the process does."""
        log = self.log_dir / f"{name}-{port}.log"
        began = time.monotonic()
        with log.open("wb") as sink:
            process = subprocess.Popen(
                pinned(self.cpu, argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the benchmark only, which stops them
                preexec_fn=_die_with_parent,  # safe: the benchmark runs no threads
            )
        server = Server(name, process, port, log)
        self._started.append(server)
        server.started_in = _wait_healthy(server, server.url + health_path, began)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        self._started.remove(server)

    def stop_all(self) -> None:
        while self._started:
            self._started.pop().stop()

    @contextlib.contextmanager
    def only(self, server: Server) -> Iterator[None]:
        """Pause every other server of the section while the block runs."""
        others = [other for other in self._started if other is not server]
        for other in others:
            other.pause()
        try:
            yield
        finally:
            for other in others:
                other.resume()


def _wait_healthy(server: Server, url: str, began: float) -> float:
    deadline = began + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not server.running:
            raise BenchError(
                f"{server.name} exited with status {server.process.returncode}:\n"
                f"{server.log_tail()}"
            )
        if client.answers_200(url):
            return time.monotonic() - began
        time.sleep(POLL_SECONDS)
    server.stop()
    raise BenchError(
        f"{server.name} did not answer {url} within {START_TIMEOUT_SECONDS:.0f} s:\n"
        f"{server.log_tail()}"
    )
