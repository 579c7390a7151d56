"""Dispatch: does the fiftieth version cost what the first does? One gateway with 50 copies of
the bench version, ``/apiv50/ping`` against ``/apiv1/ping`` on the same server, in alternating
wrk runs. The issue's target: ``/apiv50`` >= 0.97x ``/apiv1``.
"""

from __future__ import annotations

from bench import wrk
from bench.client import bearer
from bench.harness import Harness, Target, expect_ok, progress
from bench.report import Section, table
from bench.stats import Check, Spread, ratio

VERSIONS = 50


def run(harness: Harness) -> Section:
    progress(f"dispatch: starting a gateway with {VERSIONS} versions")
    with harness.servers() as servers:
        folder = harness.gateway_dir("dispatch", versions=VERSIONS)
        server = folder.serve(servers, f"G{VERSIONS}")
        targets = [
            Target(f"/apiv{n}", server, f"/apiv{n}/ping", bearer(folder.login(server, n)))
            for n in (1, VERSIONS)
        ]
        for target in targets:
            expect_ok(target)
        harness.warm_up(servers, targets)
        results = harness.alternate(servers, targets, harness.config.section_rounds)
    return summarise(results)


def summarise(results: dict[str, list[wrk.Result]]) -> Section:
    rps = {name: Spread.of(r.rps for r in runs) for name, runs in results.items()}
    rows = [
        [
            f"`{name}/ping`",
            rps[name].show(),
            Spread.of(r.p50_ms for r in runs).show(2),
            Spread.of(r.p99_ms for r in runs).show(2),
            str(sum(r.status_errors + r.socket_errors for r in runs)),
        ]
        for name, runs in results.items()
    ]
    first, last = rps["/apiv1"], rps[f"/apiv{VERSIONS}"]
    return Section(
        f"Dispatch: version 50 of {VERSIONS} against version 1",
        [
            f"One gateway serving {VERSIONS} versions; median (min-max) over rounds.",
            "",
            *table(["path", "requests/s", "p50 ms", "p99 ms", "errors"], rows),
        ],
        checks=[Check(f"/apiv{VERSIONS} / /apiv1", ratio(last, first), 0.97)],
    )
