"""Derived versions: what a request costs when a version is declared as changes to its successor.

One gateway with three versions (``apps/derived_*.py``): v3 answers an object on an
authenticated route (D0, the direct request); v2 is derived from v3 with a field renamed and one
removed, so every response is read, moved back and re-encoded (D1); v1 is derived from v2 with
one more rename, a chain of two hops (D2). The same ``GET /apiv<N>/things/1`` with each version's
own token, in alternating wrk runs on the same server. The targets, as costs per request (the
inverse of requests/s): D1 at most 1.25x D0, D2 at most 1.5x D0.
"""

from __future__ import annotations

from typing import Any

from bench import wrk
from bench.client import bearer
from bench.harness import Harness, Target, expect_ok, progress
from bench.report import Section, table
from bench.stats import Check, Spread

PATH = "/things/1"
MODULES = ("derived_twice", "derived_once", "derived_successor")  # v1, v2, v3
EXPECTED: dict[str, dict[str, Any]] = {
    "D0": {"id": 1, "title": "Pen", "owner": "alice", "tags": ["red", "blue"]},
    "D1": {"id": 1, "name": "Pen", "owner": "alice"},
    "D2": {"id": 1, "name": "Pen", "user": "alice"},
}
WHAT = {
    "D0": "v3, the successor: the direct request",
    "D1": "v2, derived from v3: a rename and a removal moved back",
    "D2": "v1, derived from v2: a chain of two",
}


def run(harness: Harness) -> Section:
    progress("derived: starting a gateway with a successor and two derived versions")
    with harness.servers() as servers:
        folder = harness.gateway_dir("derived", versions=3, modules=MODULES)
        server = folder.serve(servers, "derived")
        targets = [
            Target(name, server, f"/apiv{version}{PATH}", bearer(folder.login(server, version)))
            for name, version in (("D0", 3), ("D1", 2), ("D2", 1))
        ]
        for target in targets:
            expect_ok(target, body=EXPECTED[target.name])
        harness.warm_up(servers, targets)
        results = harness.alternate(servers, targets, harness.config.section_rounds)
    return summarise(results)


def summarise(results: dict[str, list[wrk.Result]]) -> Section:
    rps = {name: Spread.of(r.rps for r in runs) for name, runs in results.items()}
    micros = {name: 1e6 / spread.median for name, spread in rps.items()}
    rows = [
        [
            f"**{name}**",
            WHAT[name],
            rps[name].show(),
            f"{micros[name]:.0f}",
            f"{micros[name] / micros['D0']:.2f}x",
            Spread.of(r.p99_ms for r in runs).show(2),
            str(sum(r.status_errors + r.socket_errors for r in runs)),
        ]
        for name, runs in results.items()
    ]
    return Section(
        "Derived versions: a request through one and two derived versions",
        [
            "`GET /apiv<N>/things/1` with each version's own token; median (min-max) over",
            "rounds. Cost is microseconds of one core per request (1 / median requests/s).",
            "",
            *table(
                ["target", "what", "requests/s", "us/request", "cost / D0", "p99 ms", "errors"],
                rows,
            ),
        ],
        checks=[
            Check("D1 cost / D0 cost", micros["D1"] / micros["D0"], 1.25, at_least=False),
            Check("D2 cost / D0 cost", micros["D2"] / micros["D0"], 1.5, at_least=False),
        ],
    )
