"""Throughput and latency of one authenticated ``GET /apiv1/ping`` answering ``{"user":"alice"}``:
the gateway as shipped (G), and without its JSON access log (G-nolog), against three references:

- R0: a raw ASGI app, the floor of uvicorn itself;
- R1: FastAPI with the tutorial's ``OAuth2PasswordBearer(tokenUrl="token")``, no verification;
- R2: a FastAPI app mounted at ``/apiv1`` with ``app.mount``, verifying the same HS256 JWT with
  PyJWT in a dependency, as a user would write it.

G and G-nolog serve a version module with the same route, depending on ``CurrentPrincipal``
(no database work). The target: G/R2 >= 1.3. G/R1 is reported, not a target: R1 verifies
nothing, and the breakdown below shows its floor is FastAPI's own dependency cost plus the
per-request services the gateway adds around every route.

Two more targets split the gateway's cost: R1-open and G-open answer the same body on a route
with no authentication at all (``/apiv1/open``, same servers as R1 and G). From the medians,
per request: what the gateway adds around any route (G-open - R1-open), what its bearer check
costs (G - G-open) and what FastAPI's bare ``OAuth2PasswordBearer`` costs (R1 - R1-open).
"""

from __future__ import annotations

from bench import wrk
from bench.client import bearer
from bench.harness import Harness, Target, expect_ok, expect_refused, progress, resign
from bench.report import Section, table
from bench.stats import Check, Spread, ratio

PATH = "/apiv1/ping"
OPEN_PATH = "/apiv1/open"
TARGETS = {
    "R0": "raw ASGI app",
    "R1": "FastAPI + OAuth2PasswordBearer, no verification",
    "R2": "FastAPI mounted at /apiv1, PyJWT HS256 verify in a dependency",
    "G": "gateway as shipped (JSON access log on)",
    "G-nolog": "gateway, GATEWAY_SERVER__ACCESS_LOG=false",
    "R1-open": "R1's app, a route with no dependency",
    "G-open": "G's gateway, a route with no authentication",
}


def run(harness: Harness) -> Section:
    progress("throughput: starting R0, R1, R2, G and G-nolog")
    with harness.servers() as servers:
        r0 = harness.reference(servers, "R0", "raw_asgi", health_path="/")
        r1 = harness.reference(servers, "R1", "fastapi_bare")
        r2 = harness.reference(servers, "R2", "fastapi_jwt")
        shipped = harness.gateway_dir("throughput-g", versions=1)
        quiet = harness.gateway_dir("throughput-g-nolog", versions=1)
        g = shipped.serve(servers, "G")
        g_nolog = quiet.serve(servers, "G-nolog", GATEWAY_SERVER__ACCESS_LOG="false")
        token = shipped.login(g)
        own_token = resign(token, harness.secret_key)  # signed here, for R2
        targets = [
            Target("R0", r0, PATH, bearer(token)),
            Target("R1", r1, PATH, bearer(token)),
            Target("R2", r2, PATH, bearer(own_token)),
            Target("G", g, PATH, bearer(token)),
            Target("G-nolog", g_nolog, PATH, bearer(quiet.login(g_nolog))),
        ]
        authenticated = targets[1:]
        targets += [Target("R1-open", r1, OPEN_PATH), Target("G-open", g, OPEN_PATH)]
        for target in targets:
            expect_ok(target)
        for target in authenticated:
            expect_refused(target)
        # The token signed here is of the gateway's own kind: the gateway accepts it too.
        expect_ok(Target("G", g, PATH, bearer(own_token)))
        progress("throughput: warming up")
        harness.warm_up(servers, targets)
        results = harness.alternate(servers, targets, harness.config.rounds)
    return summarise(results)


def summarise(results: dict[str, list[wrk.Result]]) -> Section:
    rps = {name: Spread.of(r.rps for r in runs) for name, runs in results.items()}
    rows = [
        [
            f"**{name}**",
            TARGETS[name],
            rps[name].show(),
            Spread.of(r.p50_ms for r in runs).show(2),
            Spread.of(r.p99_ms for r in runs).show(2),
            str(sum(r.status_errors for r in runs)),
            str(sum(r.socket_errors for r in runs)),
        ]
        for name, runs in results.items()
    ]
    lines = [
        f"`GET {PATH}` with a bearer token; median (min-max) over rounds.",
        "",
        "Latency counts from the moment wrk writes a request, so it includes queueing behind",
        "the other connections' requests, and any stall of the shared machine delays every",
        "request in flight: read p99 with its range over rounds.",
        "",
        *table(
            [
                "target",
                "what",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "non-2xx/3xx",
                "socket errors",
            ],
            rows,
        ),
        "",
        *split_costs(rps),
        "",
        *reported_ratios(rps),
    ]
    return Section(
        "Throughput: one authenticated GET",
        lines,
        checks=checks(rps),
        bars=[(name, spread) for name, spread in rps.items()],
    )


def split_costs(rps: dict[str, Spread]) -> list[str]:
    """Microseconds per request, from the medians, that each layer adds."""
    micros = {name: 1e6 / spread.median for name, spread in rps.items()}
    rows = [
        ("the gateway around a route (G-open - R1-open)", micros["G-open"] - micros["R1-open"]),
        ("the gateway's bearer check (G - G-open)", micros["G"] - micros["G-open"]),
        ("FastAPI's bare OAuth2PasswordBearer (R1 - R1-open)", micros["R1"] - micros["R1-open"]),
        ("the JSON access log (G - G-nolog)", micros["G"] - micros["G-nolog"]),
    ]
    return [
        "Where the time goes, in microseconds of one core per request (1 / median requests/s):",
        "",
        *table(["cost of", "us per request"], [[what, f"{us:.1f}"] for what, us in rows]),
    ]


def reported_ratios(rps: dict[str, Spread]) -> list[str]:
    """G/R1 and G-nolog/R1: against a route that verifies nothing, shown without a target."""
    shown = ", ".join(f"{g}/R1 {ratio(rps[g], rps['R1']):.2f}x" for g in ("G", "G-nolog"))
    return [f"Reported, not a target (R1 checks no token): {shown}."]


def checks(rps: dict[str, Spread]) -> list[Check]:
    return [Check(f"{g}/R2", ratio(rps[g], rps["R2"]), 1.3) for g in ("G", "G-nolog")]
