"""The report: a header describing the machine and the software, one Markdown part per section,
and a bar chart of requests/s for each section that has bars. Written to ``bench/results/`` on
every run and, after a full run, to ``docs/`` as well, where it can be committed and shown in
the README.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path

from bench import wrk
from bench.harness import REPO, Config
from bench.stats import Check, Spread

RESULTS = REPO / "bench" / "results"
DOCS = REPO / "docs"
PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "pyjwt",
    "pwdlib",
    "argon2-cffi",
    "sqlalchemy",
    "aiosqlite",
    "limits",
)


@dataclass
class Section:
    """One part of the report: Markdown lines, the targets it checked, and bars to chart in
    ``<chart>.png`` (``docs/bench-<chart>.png``) under ``chart_title``."""

    title: str
    lines: list[str]
    checks: list[Check] = field(default_factory=list)
    bars: list[tuple[str, Spread]] = field(default_factory=list)
    chart: str = "throughput"
    chart_title: str = "GET /apiv1/ping, authenticated"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def checks_table(checks: Sequence[Check]) -> list[str]:
    return table(
        ["ratio (of medians)", "measured", "target", ""],
        [[c.label, f"{c.value:.2f}x", c.wanted, f"**{c.verdict}**"] for c in checks],
    )


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {installed_version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def gateway_revision() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "gateway", "versions")
    return commit + (" + uncommitted changes in gateway/ or versions/" if dirty else "")


def header(config: Config, command: str, started: datetime) -> list[str]:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        "# Gateway benchmark",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; command: `{command}`",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores; load average at start: {load}",
        f"- servers pinned to core {config.server_cpu}, wrk to core {config.client_cpu} "
        f"({wrk.version()}, {wrk.THREADS} thread, {config.connections} connections); "
        f"{config.rounds} rounds (sections: {config.section_rounds}) of {config.seconds} s, "
        f"{config.warmup} s warm-up per server",
        f"- Python {platform.python_version()}; {package_versions()}",
        f"- gateway at {gateway_revision()}",
        "- uvicorn with 1 worker, uvloop and httptools; ratios are of medians over rounds "
        "measured in this run; targets are informational",
    ]


def render(
    head: Sequence[str], sections: Sequence[Section], images: Mapping[str, str] | None = None
) -> str:
    """The whole report; ``images`` maps a section's chart to its file name, shown under it."""
    lines = list(head)
    for section in sections:
        lines += ["", f"## {section.title}", "", *section.lines]
        if section.checks:
            lines += ["", *checks_table(section.checks)]
        if section.bars and images and section.chart in images:
            lines += ["", f"![requests/s per target]({images[section.chart]})"]
    return "\n".join(lines) + "\n"


def chart(bars: Sequence[tuple[str, Spread]], path: Path, title: str) -> bool:
    """A PNG bar chart of requests/s, whiskers from the lowest to the highest round.

    Returns False (and writes nothing) when matplotlib is not installed.
    """
    try:
        import matplotlib as mpl
    except ImportError:
        return False
    mpl.use("Agg")
    from matplotlib import pyplot as plt

    names = [name for name, _ in bars]
    medians = [spread.median for _, spread in bars]
    whiskers = [
        [spread.median - spread.low for _, spread in bars],
        [spread.high - spread.median for _, spread in bars],
    ]
    # References in blue, the gateway in orange.
    colours = ["#dd8452" if name.startswith("G") else "#4c72b0" for name in names]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    drawn = axes.bar(names, medians, yerr=whiskers, capsize=6, color=colours)
    labels = [f"{m:,.0f}" for m in medians]
    axes.bar_label(drawn, labels=labels, label_type="center", color="white", fontweight="bold")
    axes.set_ylabel("requests/s (median, min-max over rounds)")
    axes.set_title(title, fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return True


def write(
    head: Sequence[str], sections: Sequence[Section], subtitle: str, docs: bool
) -> list[Path]:
    """Write the report, and a chart for each section with bars; returns the files written."""
    places = [(RESULTS / "latest.md", RESULTS, "")]
    if docs:
        places.append((DOCS / "bench.md", DOCS, "bench-"))
    written = []
    for text_path, folder, prefix in places:
        images = {}
        for section in sections:
            chart_path = folder / f"{prefix}{section.chart}.png"
            title = f"{section.chart_title}\n{subtitle}"
            if section.bars and chart(section.bars, chart_path, title):
                images[section.chart] = chart_path.name
                written.append(chart_path)
        text_path.parent.mkdir(parents=True, exist_ok=True)
        text_path.write_text(render(head, sections, images))
        written.append(text_path)
    return written
