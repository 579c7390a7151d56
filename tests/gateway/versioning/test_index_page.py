"""The HTML index at ``/``: a chart of each version's requests per day drawn from the stored and
pending counts, the top callers of a deprecated version (escaped), and a page that still renders
when the counts cannot be read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from gateway import Settings, create_app
from gateway.services import Services
from gateway.usage.recorder import UsageRecorder
from tests.conftest import AddUser, bearer, client_for, login

pytestmark = pytest.mark.anyio

HTML = {"Accept": "text/html"}
SCRIPT = "<script>alert(1)</script>"


class Page(HTMLParser):
    """The charts (per-day counts and bar heights by version) and caller rows of an index page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.charts: dict[str, dict[str, tuple[int, float]]] = {}
        self.labels: dict[str, str] = {}
        self.callers: list[list[str]] = []
        self.tags: list[str] = []
        self._tables = 0
        self._chart = ""
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        self._tables += tag == "table"
        if tag == "svg":
            self._chart = (found["aria-label"] or "").split(":")[0]
            self.charts[self._chart] = {}
            self.labels[self._chart] = found["aria-label"] or ""
        elif tag == "rect" and found.get("class") == "bar":
            day, requests = found["data-day"] or "", int(found["data-requests"] or "")
            self.charts[self._chart][day] = (requests, float(found["height"] or ""))
        elif tag == "tr" and self._in_callers():
            self.callers.append([])
        elif tag == "td" and self._in_callers():
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        self._tables -= tag == "table"
        if tag == "td" and self._cell is not None:
            self.callers[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _in_callers(self) -> bool:
        return self._tables >= 2  # a table inside the page's table


@pytest.fixture
async def deprecated_v1(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    gateway = create_app(
        make_settings(versions={"v1": {"status": "deprecated", "deprecated_at": "2026-01-01"}})
    )
    async with gateway.router.lifespan_context(gateway):
        yield gateway


async def seed(services: Services, calls: list[tuple[int, str, datetime, int]]) -> None:
    """Write counts the way the gateway does, at moments of the test's choosing."""
    clock = [datetime.now(UTC)]
    recorder = UsageRecorder(services.database, clock=lambda: clock[0])
    for version, principal, moment, times in calls:
        clock[0] = moment
        for _ in range(times):
            recorder.record(version, principal)
    await recorder.flush()


async def test_the_chart_shows_each_versions_requests_per_day(
    deprecated_v1: FastAPI, add_user: AddUser
) -> None:
    services: Services = deprecated_v1.state.gateway
    now = datetime.now(UTC)
    await seed(
        services,
        [
            (1, "alice", now - timedelta(days=29), 8),  # the oldest day shown
            (1, "bob", now - timedelta(days=3), 2),
            (1, "alice", now - timedelta(days=30), 99),  # a day before the chart
            (2, "carol", now - timedelta(days=3), 4),
        ],
    )
    await add_user("alice")
    async with client_for(deprecated_v1) as client:
        token = await login(client, 2)  # counted as alice's, in memory only so far
        for _ in range(2):
            await client.get("/apiv2/items/", headers=bearer(token))
        response = await client.get("/", headers=HTML)

    assert response.status_code == 200
    page = Page(response.text)
    assert set(page.charts) == {"v1", "v2"}
    day = [(now - timedelta(days=back)).date().isoformat() for back in range(30)]
    for version, expected in {1: {day[29]: 8, day[3]: 2}, 2: {day[3]: 4, day[0]: 3}}.items():
        bars = page.charts[f"v{version}"]
        assert list(bars) == day[::-1]  # thirty days, oldest first, today last
        assert {d: n for d, (n, _) in bars.items() if n} == expected
        peak = max(expected.values())
        for requests, height in bars.values():
            assert height == pytest.approx(40 * requests / peak)
    assert page.labels["v2"].startswith("v2: 7 requests in the 30 days")


async def test_a_deprecated_version_lists_its_top_callers_escaped(deprecated_v1: FastAPI) -> None:
    services: Services = deprecated_v1.state.gateway
    now = datetime.now(UTC).replace(microsecond=0)
    seen = now - timedelta(days=2)
    await seed(
        services,
        [(1, f"user{n}", now - timedelta(hours=n), n) for n in range(1, 7)]
        + [(1, SCRIPT, seen, 50), (2, "only-v2", now, 1)],
    )
    async with client_for(deprecated_v1) as client:
        page_text = (await client.get("/", headers=HTML)).text

    assert SCRIPT not in page_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page_text
    assert "script" not in Page(page_text).tags
    page = Page(page_text)
    shown = "%Y-%m-%d %H:%M UTC"
    assert page.callers[1:] == [  # under the header row: the five busiest, most first
        [SCRIPT, "50", seen.strftime(shown)],
        *[[f"user{n}", str(n), (now - timedelta(hours=n)).strftime(shown)] for n in (6, 5, 4, 3)],
    ]
    assert "only-v2" not in page_text  # a stable version has no callers table


async def test_the_page_renders_without_counts_when_the_database_is_down(
    deprecated_v1: FastAPI,
) -> None:
    services: Services = deprecated_v1.state.gateway
    working = services.database.engine
    # A real connection attempt to a port where no database listens.
    services.database.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        async with client_for(deprecated_v1) as client:
            page = await client.get("/", headers=HTML)
            listing = await client.get("/versions")
    finally:
        await services.database.engine.dispose()
        services.database.engine = working

    assert page.status_code == 200
    assert page.text.count("usage counts unavailable") == 2
    assert "<svg" not in page.text
    assert 'href="/apiv1/docs"' in page.text
    assert listing.status_code == 200
    assert [(v["requests_24h"], v["last_called"]) for v in listing.json()["versions"]] == [
        (None, None),
        (None, None),
    ]


async def test_a_deprecated_version_without_calls_says_so(deprecated_v1: FastAPI) -> None:
    async with client_for(deprecated_v1) as own:
        text = (await own.get("/", headers=HTML)).text
    assert "No calls to v1 in the last 30 days." in text
    assert text.count("<svg") == 2
