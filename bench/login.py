"""Logins: does a burst of argon2 logins starve the event loop, and how close do token issues
come to what the CPU allows?

Each round, in this order:

1. one argon2 verify's CPU time ``t``, with pwdlib's recommended hasher (as the gateway
   hashes), in a process pinned to the server's core (``argon2_time.py``);
2. ``/healthz`` latency on the idle gateway, with a paced probe: one connection, one request
   every ``PROBE_DELAY_MS``, like a load balancer's health check;
3. wrk starts posting password-grant logins to ``/apiv1/token`` on ``LOGIN_CONNECTIONS``
   connections; after ``LEAD_SECONDS`` the same probe runs again: ``/healthz`` under logins;
4. with the probe stopped and the burst still on, token issues per second, from the gateway's
   own ``gateway_tokens_issued_total`` counter, from one issue to another about ``seconds``
   later, so neither the ramp-up, nor the logins cut off when wrk stops, nor the probe's own
   CPU, nor where the window's ends fall between two issues bias the rate.

The bound: the server is pinned to one core, so it can verify at most one core's worth of
argon2 per second: ``1 / t``. (The gateway lets ``os.cpu_count()`` verifies run at once, so on
an unpinned two-core machine the bound would be ``2 / t``.)

The issue's targets: ``/healthz`` p99 under the burst <= 2x idle; token issues >= 0.8x the bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from bench import client, wrk
from bench.harness import REPO, GatewayDir, Harness, progress
from bench.processes import BenchError, Server, pinned
from bench.report import Section, table
from bench.stats import Check, Spread

PROBE_DELAY_MS = 5
LOGIN_CONNECTIONS = 8
LEAD_SECONDS = 1  # the burst runs this long before the probe starts
TAIL_SECONDS = 2  # and this long after the counting window should end
EDGE_POLL_SECONDS = 0.01  # how often /metrics is read while waiting for the next issue
LOGIN_TIMEOUT_SECONDS = 30  # a queued login waits for several verifies: not a failure
VERIFY_SAMPLES = 3
ISSUED_METRIC = "gateway_tokens_issued_total"


@dataclass(frozen=True)
class Round:
    verify_seconds: float
    idle: wrk.Result
    busy: wrk.Result
    logins: wrk.Result
    issued_per_second: float

    @property
    def bound(self) -> float:
        return 1 / self.verify_seconds


def argon2_verify(harness: Harness) -> tuple[float, str]:
    """One verify's CPU time (median of a few) and the hash parameters, on the server's core."""
    argv = [sys.executable, "-m", "bench.argon2_time", str(VERIFY_SAMPLES)]
    done = subprocess.run(
        pinned(harness.config.server_cpu, argv),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"measuring argon2 failed: {done.stderr.strip()}")
    measured = json.loads(done.stdout)
    return float(measured["cpu_seconds"]), str(measured["parameters"])


def tokens_issued(server: Server) -> float:
    """The gateway's count of issued access tokens, from ``/metrics``."""
    answer = client.request(server.url + "/metrics")
    counts = [
        float(line.rsplit(" ", 1)[1])
        for line in answer.body.decode().splitlines()
        if line.startswith(ISSUED_METRIC)
    ]
    if answer.status != 200 or not counts:
        raise BenchError(f"{server.name}: /metrics has no {ISSUED_METRIC} ({answer.status})")
    return sum(counts)


def wait_for_quiet(server: Server, verify_seconds: float) -> None:
    """Wait until logins still queued when wrk stopped are done: the count stops moving."""
    pause = max(0.5, 2 * verify_seconds)
    deadline = time.monotonic() + 60
    count = tokens_issued(server)
    while time.monotonic() < deadline:
        time.sleep(pause)
        count, previous = tokens_issued(server), count
        if count == previous:
            return


def next_issue(server: Server) -> tuple[float, float]:
    """Wait for the counter to move: the new count, and the moment it was seen."""
    previous = tokens_issued(server)
    deadline = time.monotonic() + LOGIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(EDGE_POLL_SECONDS)
        count, seen = tokens_issued(server), time.monotonic()
        if count != previous:
            return count, seen
    raise BenchError(f"{server.name}: no token issued in {LOGIN_TIMEOUT_SECONDS} s of logins")


def issue_rate(server: Server, seconds: float) -> float:
    """Tokens per second over about ``seconds``, from one issue to another: a window with
    arbitrary ends would count up to one token too few or too many (4% of 25)."""
    first, began = next_issue(server)
    time.sleep(seconds)
    last, ended = next_issue(server)
    return (last - first) / (ended - began)


def one_round(harness: Harness, server: Server, probe: wrk.Load, burst: wrk.Load) -> Round:
    verify_seconds, _ = argon2_verify(harness)
    idle = harness.wrk(probe)
    logins = wrk.start(burst, harness.config.client_cpu)
    try:
        time.sleep(LEAD_SECONDS)
        busy = harness.wrk(probe)
        issued = issue_rate(server, harness.config.seconds)
    except BaseException:
        logins.kill()
        logins.wait()
        raise
    login_result = wrk.finish(logins, timeout=burst.seconds + LOGIN_TIMEOUT_SECONDS + 30)
    wait_for_quiet(server, verify_seconds)
    return Round(verify_seconds, idle, busy, login_result, issued)


def loads(harness: Harness, folder: GatewayDir, server: Server) -> tuple[wrk.Load, wrk.Load]:
    """The ``/healthz`` probe, and the login burst, long enough to outlast probe and window."""
    seconds = harness.config.seconds
    probe = wrk.Load(
        server.url + "/healthz",
        seconds,
        connections=1,
        script=wrk.PROBE_SCRIPT,
        env={"BENCH_PROBE_DELAY_MS": str(PROBE_DELAY_MS)},
    )
    burst = wrk.Load(
        server.url + "/apiv1/token",
        LEAD_SECONDS + 2 * seconds + TAIL_SECONDS,
        connections=LOGIN_CONNECTIONS,
        script=wrk.LOGIN_SCRIPT,
        env={"BENCH_LOGIN_BODY": urlencode(folder.login_form())},
        timeout_seconds=LOGIN_TIMEOUT_SECONDS,
    )
    return probe, burst


def run(harness: Harness) -> Section:
    progress("login: starting a gateway")
    _, parameters = argon2_verify(harness)
    with harness.servers() as servers:
        folder = harness.gateway_dir("login", versions=1)
        server = folder.serve(servers, "G")
        folder.login(server)  # a login works, and the counter exists
        probe, burst = loads(harness, folder, server)
        harness.wrk(replace(probe, seconds=harness.config.warmup))
        rounds = []
        for number in range(harness.config.section_rounds):
            done = one_round(harness, server, probe, burst)
            rounds.append(done)
            progress(
                f"  round {number + 1}/{harness.config.section_rounds} /healthz p99 idle "
                f"{done.idle.p99_ms:.2f} ms, under logins {done.busy.p99_ms:.2f} ms; "
                f"{done.issued_per_second:.2f} tokens/s, bound {done.bound:.2f}/s"
            )
    return summarise(rounds, parameters)


def summarise(rounds: list[Round], parameters: str) -> Section:
    idle_p99 = Spread.of(r.idle.p99_ms for r in rounds)
    busy_p99 = Spread.of(r.busy.p99_ms for r in rounds)
    issued = Spread.of(r.issued_per_second for r in rounds)
    bound = Spread.of(r.bound for r in rounds)
    verify_ms = Spread.of(r.verify_seconds * 1000 for r in rounds)
    failed = sum(r.logins.status_errors + r.logins.socket_errors for r in rounds)
    probe_errors = sum(
        r.idle.status_errors + r.idle.socket_errors + r.busy.status_errors + r.busy.socket_errors
        for r in rounds
    )
    rows = [
        ["`/healthz` p50 ms, idle", Spread.of(r.idle.p50_ms for r in rounds).show(2)],
        ["`/healthz` p99 ms, idle", idle_p99.show(2)],
        ["`/healthz` p50 ms, under logins", Spread.of(r.busy.p50_ms for r in rounds).show(2)],
        ["`/healthz` p99 ms, under logins", busy_p99.show(2)],
        ["token issues/s (the gateway's counter)", issued.show(2)],
        [f"one argon2 verify, ms of CPU ({parameters})", verify_ms.show()],
        ["argon2 bound/s: 1 core / one verify", bound.show(2)],
        ["failed logins, probe errors", f"{failed}, {probe_errors}"],
    ]
    lines = [
        f"`/healthz` probed on 1 connection every {PROBE_DELAY_MS} ms, idle and while wrk "
        f"posts logins to `/apiv1/token` on {LOGIN_CONNECTIONS} connections; token issues "
        "counted afterwards, the burst still on and the probe off. The server is pinned to one "
        "core, so the bound is one core's worth of argon2 verifies, timed in each round. "
        "Median (min-max) over rounds.",
        "",
        *table(["measure", "value"], rows),
    ]
    return Section(
        "Logins: health under a login burst, token issues against the argon2 bound",
        lines,
        checks=[
            Check(
                "/healthz p99 under logins / idle",
                busy_p99.median / idle_p99.median,
                2.0,
                at_least=False,
            ),
            Check("token issues/s / argon2 bound", issued.median / bound.median, 0.8),
        ],
    )
