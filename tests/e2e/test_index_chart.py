"""The version index at ``/`` in a real headless Chromium, direct and behind nginx's prefix: the
charts are drawn from the counts the server stored (seeded days in the past plus real requests
today), a deprecated version lists its callers with a hostile name shown as text, and the page
loads nothing from anywhere but the gateway.

Each run gets a gateway (and proxy) of its own, so no other test's requests reach its counts.
"""

from __future__ import annotations

import asyncio
import time as clock
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog, Page, Request
from sqlalchemy import func, select

from gateway.settings import DatabaseSettings
from gateway.storage.database import Database
from gateway.usage.recorder import UsageRecorder, VersionUsage
from tests.e2e.conftest import PROXY_PREFIX, Workdir, free_port, get_token, start_server
from tests.e2e.nginx import MISSING as NGINX_MISSING
from tests.e2e.nginx import NGINX, start_nginx
from tests.e2e.test_browser import assert_all_local, browser, page, requests_made  # noqa: F401

pytestmark = pytest.mark.e2e

SETTINGS = """
[versions.v1]
status = "deprecated"
deprecated_at = 2026-01-01
"""
SCRIPT = "<script>alert(1)</script>"
SCREENSHOT = Path("/tmp/index-chart.png")  # noqa: S108 - a fixed place to look at the page


@dataclass
class Gateway:
    url: str  # where clients reach it: the server itself or the proxy's prefix
    database_url: str


@pytest.fixture(params=["direct", "proxy"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gateway]:
    folder = Workdir.create(tmp_path / "gateway", SETTINGS)
    folder.add_user("alice")
    database_url = f"sqlite+aiosqlite:///{folder.path / 'var' / 'gateway.db'}"
    if request.param == "direct":
        server = start_server(folder)
        try:
            yield Gateway(server.url, database_url)
        finally:
            server.stop()
        return
    if not NGINX.exists():
        pytest.skip(NGINX_MISSING)
    server = start_server(folder, "--root-path", PROXY_PREFIX)
    proxy = start_nginx(tmp_path / "nginx", free_port(), server.port, PROXY_PREFIX)
    try:
        yield Gateway(proxy.gateway_url, database_url)
    finally:
        proxy.stop()
        server.stop()


def in_thread(coroutine: Any) -> Any:
    """Run a coroutine on a loop of its own: Playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def seed(database_url: str, calls: list[tuple[int, str, datetime, int]]) -> None:
    """Write counts through the gateway's own recorder, each at a moment of the test's choosing."""
    database = Database(DatabaseSettings(url=database_url))
    clock = [datetime.now(UTC)]
    recorder = UsageRecorder(database, clock=lambda: clock[0])
    try:
        for version, principal, moment, times in calls:
            clock[0] = moment
            for _ in range(times):
                recorder.record(version, principal)
        await recorder.flush()
    finally:
        await database.dispose()


async def written_today(database_url: str) -> int:
    database = Database(DatabaseSettings(url=database_url))
    midnight = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    try:
        async with database.engine.connect() as connection:
            total = await connection.scalar(
                select(func.sum(VersionUsage.requests)).where(VersionUsage.hour >= midnight)
            )
        return int(total or 0)
    finally:
        await database.dispose()


def wait_for_written(database_url: str, requests: int, seconds: float = 15) -> None:
    deadline = clock.monotonic() + seconds
    while (written := in_thread(written_today(database_url))) != requests:
        assert clock.monotonic() < deadline, f"{written} of {requests} requests written"
        clock.sleep(0.2)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


CHARTS_JS = """() => Array.from(document.querySelectorAll("svg.usage-chart"), svg => ({
    label: svg.getAttribute("aria-label"),
    title: svg.querySelector(":scope > title").textContent,
    bars: Array.from(svg.querySelectorAll("rect.bar"), bar => ({
        day: bar.dataset.day,
        requests: Number(bar.dataset.requests),
        height: bar.getBoundingClientRect().height,
        title: bar.parentNode.querySelector("title").textContent,
    })),
}))"""


def test_the_index_charts_the_stored_counts(
    page: Page,  # noqa: F811
    requests_made: list[Request],  # noqa: F811
    gateway: Gateway,
) -> None:
    today = datetime.now(UTC).date()
    ago = {back: today - timedelta(days=back) for back in range(31)}
    in_thread(
        seed(
            gateway.database_url,
            [
                (1, "alice", noon(ago[29]), 8),  # the oldest day on the chart
                (1, SCRIPT, noon(ago[3]), 5),
                (1, "bob", noon(ago[10]), 2),
                (1, "alice", noon(ago[30]), 40),  # a day before the chart: not drawn
                (2, "carol", noon(ago[1]), 6),
            ],
        )
    )
    # Today's requests, made for real as alice: a login and calls to each version.
    for version, calls in ((1, 3), (2, 1)):
        bearer = {"Authorization": f"Bearer {get_token(gateway.url, version)}"}
        for _ in range(calls):
            me = httpx.get(f"{gateway.url}/apiv{version}/users/me", headers=bearer, timeout=10)
            assert me.status_code == 200, me.text
    # The callers table shows written counts: wait for the server's next write.
    wait_for_written(gateway.database_url, 6)
    dialogs: list[Dialog] = []

    def opened(dialog: Dialog) -> None:  # an alert() would mean the principal's name ran
        dialogs.append(dialog)

    page.on("dialog", opened)

    page.goto(f"{gateway.url}/", wait_until="load")

    charts = {chart["label"].split(":")[0]: chart for chart in page.evaluate(CHARTS_JS)}
    expected = {
        "v1": {ago[29]: 8, ago[10]: 2, ago[3]: 5, today: 4},
        "v2": {ago[1]: 6, today: 2},
    }
    assert set(charts) == set(expected)
    for name, counts in expected.items():
        chart, peak = charts[name], max(counts.values())
        bars = chart["bars"]
        assert [bar["day"] for bar in bars] == [ago[back].isoformat() for back in range(29, -1, -1)]
        drawn = {date.fromisoformat(bar["day"]): bar["requests"] for bar in bars}
        assert {day: n for day, n in drawn.items() if n} == counts
        for bar in bars:  # the rendered height, in proportion to the day's count
            assert bar["height"] == pytest.approx(40 * bar["requests"] / peak, abs=0.5)
            plural = "" if bar["requests"] == 1 else "s"
            assert bar["title"] == f"{bar['day']}: {bar['requests']} request{plural}"
        total = sum(counts.values())
        assert chart["title"] == chart["label"]
        assert chart["label"].startswith(f"{name}: {total} requests in the 30 days")

    callers = page.locator("table.callers tbody tr")
    rows = [row.locator("td").all_inner_texts() for row in callers.all()]
    assert [row[:2] for row in rows] == [["alice", "12"], [SCRIPT, "5"], ["bob", "2"]]
    assert rows[1][2] == f"{ago[3]} 12:00 UTC"
    assert page.locator("script").count() == 0
    assert dialogs == []
    assert_all_local(requests_made, gateway.url)
    page.screenshot(path=SCREENSHOT.with_stem(f"{SCREENSHOT.stem}{_suffix(gateway)}"))


def _suffix(gateway: Gateway) -> str:
    return "-proxy" if PROXY_PREFIX in gateway.url else ""
