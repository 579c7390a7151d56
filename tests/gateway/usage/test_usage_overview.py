"""The usage counts behind the page at ``/``: requests per UTC day for every version in one
query, and a deprecated version's top callers, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.settings import DatabaseSettings
from gateway.storage.database import Database
from gateway.usage.overview import requests_per_day, top_callers, utc_days
from gateway.usage.recorder import ANONYMOUS, PrincipalUsage, UsageRecorder
from tests.postgres import fresh_database

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 31, 12, 30, 15, tzinfo=UTC)
TODAY = date(2026, 3, 31)
# UTC+14: a server in this zone puts 10:00 UTC and later on the next calendar day.
FAR_EAST = "Pacific/Kiritimati"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}"))
        await db.create_tables()
        yield db
        await db.dispose()
        return
    async with fresh_database() as url:
        # Days must be UTC days even when the server's own zone is far from UTC.
        admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            name = make_url(url).database
            zone = f"SET timezone TO '{FAR_EAST}'"
            await connection.execute(text(f'ALTER DATABASE "{name}" {zone}'))
        await admin.dispose()
        db = Database(DatabaseSettings(url=url))
        await db.create_tables()
        yield db
        await db.dispose()


async def record(recorder: UsageRecorder, clock: Clock, calls: list[tuple[Any, ...]]) -> None:
    """Count each (version, principal, moment[, times]) call at its moment, then write them."""
    for version, principal, moment, *times in calls:
        clock.now = moment
        for _ in range(times[0] if times else 1):
            recorder.record(version, principal)
    await recorder.flush()
    clock.now = NOW


def selects(database: Database) -> list[str]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    return seen


def test_the_days_are_the_last_thirty_utc_days_oldest_first() -> None:
    days = utc_days(datetime(2026, 3, 31, 1, 0, tzinfo=UTC).astimezone())
    assert len(days) == 30
    assert days[0] == date(2026, 3, 2)
    assert days[-1] == TODAY
    assert utc_days(datetime(2026, 3, 31, 23, 0, tzinfo=UTC), 2) == (date(2026, 3, 30), TODAY)
    with pytest.raises(ValueError, match="days must be at least 1"):
        utc_days(NOW, 0)


async def test_requests_per_day_sums_every_version_by_utc_day_in_one_query(
    database: Database,
) -> None:
    clock = Clock()
    recorder = UsageRecorder(database, clock=clock)
    midnight = datetime(2026, 3, 31, tzinfo=UTC)
    await record(
        recorder,
        clock,
        [
            (1, "alice", NOW, 3),
            (1, "bob", NOW - timedelta(hours=2), 2),  # another principal, the same day
            (1, "alice", midnight, 1),  # the first hour of today
            (1, "alice", midnight - timedelta(seconds=1), 4),  # the last of yesterday
            (1, None, datetime(2026, 3, 2, 0, 5, tzinfo=UTC), 6),  # the oldest day shown
            (1, "alice", datetime(2026, 3, 1, 23, 59, tzinfo=UTC), 50),  # a day too old
            (1, "alice", NOW + timedelta(hours=1), 70),  # after now: not yet
            (2, "carol", datetime(2026, 3, 15, 10, 0, tzinfo=UTC), 5),  # the 14th east of UTC+14
        ],
    )
    recorder.record(2, "carol")  # pending, not written yet: counted as the page's other counts
    statements = selects(database)

    daily = await requests_per_day(recorder, now=NOW)

    assert len(statements) == 1
    assert "GROUP BY" in statements[0]
    assert daily.days == utc_days(NOW)
    assert set(daily.counts) == {1, 2}
    v1 = dict(zip(daily.days, daily.of(1), strict=True))
    assert v1 == {day: 0 for day in daily.days} | {
        date(2026, 3, 2): 6,
        date(2026, 3, 30): 4,
        TODAY: 6,
    }
    v2 = dict(zip(daily.days, daily.of(2), strict=True))
    assert {day: n for day, n in v2.items() if n} == {date(2026, 3, 15): 5, TODAY: 1}
    assert daily.of(3) == (0,) * 30  # never called: thirty empty days
    assert all(type(n) is int for n in daily.of(1))


async def test_an_empty_table_gives_no_counts(database: Database) -> None:
    daily = await requests_per_day(UsageRecorder(database), now=NOW)
    assert daily.counts == {}
    assert daily.of(1) == (0,) * 30


async def test_top_callers_are_the_busiest_principals_of_the_asked_versions(
    database: Database,
) -> None:
    clock = Clock()
    recorder = UsageRecorder(database, clock=clock)
    await record(
        recorder,
        clock,
        [
            (1, "alice", NOW - timedelta(days=3), 2),
            (1, "alice", NOW - timedelta(days=1), 2),  # alice: 4 over two days, last yesterday
            (1, "bob", NOW - timedelta(hours=1), 5),
            (1, None, NOW - timedelta(days=10), 3),
            (1, "dave", NOW, 1),
            (1, "erin", NOW, 1),  # dave and erin tie: by name
            (1, "frank", NOW, 1),  # the sixth: left out
            (1, "old", datetime(2026, 3, 1, 23, 0, tzinfo=UTC), 100),  # before the window
            (2, "alice", NOW, 9),
            (3, "zoe", NOW, 9),  # not asked for
        ],
    )
    statements = selects(database)

    callers = await top_callers(database, {1, 2, 4}, now=NOW)

    assert len(statements) == 1
    assert callers == {
        1: [
            PrincipalUsage(1, "bob", 5, NOW - timedelta(hours=1)),
            PrincipalUsage(1, "alice", 4, NOW - timedelta(days=1)),
            PrincipalUsage(1, ANONYMOUS, 3, NOW - timedelta(days=10)),
            PrincipalUsage(1, "dave", 1, NOW),
            PrincipalUsage(1, "erin", 1, NOW),
        ],
        2: [PrincipalUsage(2, "alice", 9, NOW)],
    }
    assert all(type(row.requests) is int for rows in callers.values() for row in rows)
    assert [row.principal for row in (await top_callers(database, [1], limit=2, now=NOW))[1]] == [
        "bob",
        "alice",
    ]
    assert await top_callers(database, [], now=NOW) == {}
