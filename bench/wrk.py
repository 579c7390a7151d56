"""Running wrk, pinned to the client core, and reading its summary.

Every run loads ``lua/report.lua`` (directly or through another script), whose ``done`` hook
prints one JSON line with the totals and latency percentiles; nothing is scraped from wrk's
human-readable output. One wrk thread: wrk has one core to itself, and a second thread on the
same core would only add context switches.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import BenchError, pinned

LUA_DIR = Path(__file__).resolve().parent / "lua"
REPORT_SCRIPT = LUA_DIR / "report.lua"
LOGIN_SCRIPT = LUA_DIR / "login.lua"
PROBE_SCRIPT = LUA_DIR / "probe.lua"
RESULT_PREFIX = "BENCH_RESULT "
THREADS = 1


@dataclass(frozen=True)
class Load:
    """One wrk run: ``connections`` kept open to ``url`` for ``seconds``."""

    url: str
    seconds: int
    connections: int
    headers: Mapping[str, str] = field(default_factory=dict)
    script: Path = REPORT_SCRIPT
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: int = 2


@dataclass(frozen=True)
class Result:
    """wrk's summary. ``status_errors`` are answers above 399, ``socket_errors`` failed
    connects, reads, writes and timeouts; latencies are in milliseconds."""

    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def ok_rps(self) -> float:
        return (self.requests - self.status_errors) / self.seconds


def command(load: Load, cpu: int) -> list[str]:
    argv = [
        "wrk",
        f"--threads={THREADS}",
        f"--connections={load.connections}",
        f"--duration={load.seconds}s",
        f"--timeout={load.timeout_seconds}s",
        f"--script={load.script}",
        "--latency",
    ]
    for name, value in load.headers.items():
        argv += ["--header", f"{name}: {value}"]
    return pinned(cpu, [*argv, load.url])


def start(load: Load, cpu: int) -> subprocess.Popen[str]:
    """Start wrk in the background; ``finish`` waits for it and reads its summary."""
    env = {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), **load.env}
    return subprocess.Popen(
        command(load, cpu),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float) -> Result:
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:  # a timeout, Ctrl-C: wrk must not outlive the benchmark
        process.kill()
        process.wait()
        raise
    if process.returncode != 0:
        raise BenchError(f"wrk failed with status {process.returncode}: {err.strip() or out}")
    return parse(out)


def run(load: Load, cpu: int) -> Result:
    return finish(start(load, cpu), timeout=load.seconds + load.timeout_seconds + 30)


def parse(output: str) -> Result:
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line.removeprefix(RESULT_PREFIX))
            break
    else:
        raise BenchError(f"wrk printed no summary line:\n{output}")
    socket_errors = sum(
        data[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    if data["requests"] == 0:
        raise BenchError(f"wrk completed no request (socket errors: {socket_errors}):\n{output}")
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        status_errors=data["status_errors"],
        socket_errors=socket_errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


def version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "wrk"
