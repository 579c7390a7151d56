"""Start-up: time from ``gateway serve``'s start to its first 200 on ``/healthz``, and resident
memory right then (``VmRSS``), with 50 versions against 2, alternating starts; the first start
of each is a discarded warm-up (it fills the page cache). The version modules are compiled to
bytecode beforehand, as an installed package's are. Memory per added version is
``(RSS_50 - RSS_2) / 48``. The issue's target: start-up with 50 versions <= 1.2x start-up with 2.
"""

from __future__ import annotations

import os

from bench.harness import GatewayDir, Harness, progress
from bench.report import Section, table
from bench.stats import Check, Spread

SIZES = (50, 2)


def start_once(harness: Harness, folder: GatewayDir) -> tuple[float, int]:
    """One start: seconds to the first healthy answer, and RSS in KiB then."""
    with harness.servers() as servers:
        server = folder.serve(servers, f"G{folder.versions}-startup")
        return server.started_in, server.rss_kib()


def run(harness: Harness) -> Section:
    progress(f"startup: gateways with {' and '.join(map(str, SIZES))} versions")
    folders = [harness.gateway_dir(f"startup-{size}", versions=size) for size in SIZES]
    for folder in folders:
        start_once(harness, folder)
    seconds: dict[int, list[float]] = {size: [] for size in SIZES}
    memory: dict[int, list[int]] = {size: [] for size in SIZES}
    for number in range(harness.config.starts):
        order = folders if number % 2 == 0 else folders[::-1]
        for folder in order:
            took, rss = start_once(harness, folder)
            seconds[folder.versions].append(took)
            memory[folder.versions].append(rss)
            progress(
                f"  start {number + 1}: {folder.versions} versions in {took:.2f} s, "
                f"{rss / 1024:.1f} MiB"
            )
    return summarise(seconds, memory)


def summarise(seconds: dict[int, list[float]], memory: dict[int, list[int]]) -> Section:
    many, few = SIZES
    took = {size: Spread.of(values) for size, values in seconds.items()}
    rss = {size: Spread.of(kib / 1024 for kib in values) for size, values in memory.items()}
    per_version_kib = (rss[many].median - rss[few].median) * 1024 / (many - few)
    rows = [[f"{size} versions", took[size].show(2), rss[size].show(1)] for size in SIZES]
    lines = [
        "From process start to the first 200 on `/healthz`, and RSS then; median (min-max) "
        "over starts.",
        "",
        *table(["gateway", "start-up s", "RSS MiB"], rows),
        "",
        f"Memory per added version: (RSS_{many} - RSS_{few}) / {many - few} = "
        f"**{per_version_kib:,.0f} KiB**.",
    ]
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        lines += [
            "",
            "PYTHONDONTWRITEBYTECODE is set here: modules without cached bytecode are compiled "
            "at every start (the bench versions are compiled beforehand).",
        ]
    return Section(
        "Start-up and memory",
        lines,
        checks=[
            Check(
                f"start-up {many} versions / {few} versions",
                took[many].median / took[few].median,
                1.2,
                at_least=False,
            )
        ],
    )
