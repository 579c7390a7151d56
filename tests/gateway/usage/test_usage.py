"""Usage counts: counted in memory on the request path, written in batches that add up across
restarts and processes, kept when the database fails, and read back per window."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.settings import DatabaseSettings
from gateway.storage.database import Base, Database
from gateway.usage import recorder as usage_module
from gateway.usage.recorder import (
    ANONYMOUS,
    PrincipalUsage,
    UsageRecorder,
    VersionActivity,
    VersionLastCall,
    VersionUsage,
    usage_report,
)

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 31, 12, 30, 15, tzinfo=UTC)
UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:9/none"
POSTGRESQL_URL = os.environ.get(
    "TEST_POSTGRESQL_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class Clock:
    """An injectable clock: tests move it instead of waiting."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sqlite_database(path: Path) -> Database:
    return Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = sqlite_database(tmp_path / "usage.db")
    await db.create_tables()
    yield db
    await db.dispose()


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the database's engine runs, from now on."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    yield seen
    event.remove(database.engine.sync_engine, "before_cursor_execute", count)


async def stored(database: Database) -> dict[tuple[int, str, datetime], tuple[int, datetime]]:
    async with database.sessions() as session:
        rows = (await session.execute(select(VersionUsage))).scalars().all()
    return {(r.version, r.principal, r.hour): (r.requests, r.last_seen) for r in rows}


def hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def test_flush_writes_one_row_per_version_principal_and_hour(database: Database) -> None:
    clock = Clock()
    recorder = UsageRecorder(database, clock=clock)
    for _ in range(3):
        recorder.record(1, "alice")
    recorder.record(1, None)
    recorder.record(2, "alice")
    clock.now = NOW + timedelta(hours=1)
    recorder.record(1, "alice")
    assert recorder.pending_requests == 6

    assert await recorder.flush() == 6
    assert recorder.pending_requests == 0
    assert await stored(database) == {
        (1, "alice", hour(NOW)): (3, NOW),
        (1, ANONYMOUS, hour(NOW)): (1, NOW),
        (2, "alice", hour(NOW)): (1, NOW),
        (1, "alice", hour(NOW) + timedelta(hours=1)): (1, clock.now),
    }
    assert await recorder.flush() == 0  # nothing pending: no transaction at all


async def test_record_does_no_database_io_and_flush_does(
    database: Database, statements: list[str]
) -> None:
    recorder = UsageRecorder(database)
    for index in range(10_000):
        recorder.record(1 + index % 3, f"user{index % 50}")
    assert statements == []

    assert await recorder.flush() == 10_000
    writes = [s for s in statements if s.startswith("INSERT")]
    # One executemany per table, whatever the number of rows: the whole batch in one round.
    assert len(writes) == 2
    assert sum(requests for requests, _ in (await stored(database)).values()) == 10_000


async def test_a_flush_adds_to_what_is_stored_and_keeps_the_latest_call(
    database: Database,
) -> None:
    clock = Clock()
    first, second = UsageRecorder(database, clock=clock), UsageRecorder(database, clock=clock)
    first.record(1, "alice")
    clock.now = NOW + timedelta(minutes=10)
    second.record(1, "alice")
    second.record(1, "alice")
    await second.flush()
    await first.flush()  # older calls written last must not move last_seen back

    assert await stored(database) == {(1, "alice", hour(NOW)): (3, clock.now)}
    assert (await first.recent(NOW))[1] == VersionActivity(3, clock.now)


async def test_counts_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    before = sqlite_database(path)
    await before.create_tables()
    recorder = UsageRecorder(before, clock=Clock())
    for _ in range(5):
        recorder.record(1, "alice")
    recorder.record(2, None)
    await recorder.start()
    await recorder.stop()  # shutdown writes what is pending
    await before.dispose()

    after = sqlite_database(path)
    await after.create_tables()
    try:
        restarted = UsageRecorder(after, clock=Clock(NOW + timedelta(minutes=5)))
        assert await restarted.recent(NOW) == {
            1: VersionActivity(5, NOW),
            2: VersionActivity(1, NOW),
        }
        restarted.record(1, "alice")
        await restarted.flush()
        assert await usage_report(after, now=NOW) == [
            PrincipalUsage(1, "alice", 6, NOW + timedelta(minutes=5)),
            PrincipalUsage(2, ANONYMOUS, 1, NOW),
        ]
    finally:
        await after.dispose()


async def test_the_background_task_flushes_every_interval(database: Database) -> None:
    recorder = UsageRecorder(database, flush_seconds=0.2)
    await recorder.start()
    try:
        recorder.record(1, "alice")
        assert await stored(database) == {}  # written later, by the background task
        await _written(database, 1)
        recorder.record(1, "alice")
        await _written(database, 2)
    finally:
        await recorder.stop()
    assert recorder.pending_requests == 0


async def _written(database: Database, requests: int) -> None:
    """Wait (up to about 5 s) until the database holds ``requests`` requests."""
    for _ in range(500):
        if sum(n for n, _ in (await stored(database)).values()) >= requests:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the background task did not write {requests} requests in time")


async def test_recent_counts_the_last_24_hours_and_the_latest_call_ever(
    database: Database,
) -> None:
    clock = Clock()
    recorder = UsageRecorder(database, clock=clock)
    calls = [
        (1, NOW - timedelta(hours=24)),  # 12:30 yesterday: its hour began 24.5 hours ago
        (1, NOW - timedelta(hours=23, minutes=30)),  # 13:00 yesterday: the oldest hour counted
        (1, NOW),
        (2, NOW - timedelta(days=3)),  # outside the window, but still its latest call
    ]
    for version, moment in calls:
        clock.now = moment
        recorder.record(version, "alice")
    await recorder.flush()
    clock.now = NOW
    recorder.record(1, "bob")  # pending, not yet written: counted too

    assert await recorder.recent(NOW) == {
        1: VersionActivity(requests_24h=3, last_called=NOW),
        2: VersionActivity(requests_24h=0, last_called=NOW - timedelta(days=3)),
    }
    # An hour later the 13:00 bucket has left the window.
    later = NOW + timedelta(hours=1)
    assert (await recorder.recent(later))[1] == VersionActivity(2, NOW)


async def test_report_sums_each_principal_over_whole_days(database: Database) -> None:
    clock = Clock()
    recorder = UsageRecorder(database, clock=clock)
    start = NOW - timedelta(days=30)  # 12:30 on March 1st
    calls = [
        (1, "old", start - timedelta(minutes=1)),  # 12:29: in the hour that just left
        (1, "edge", start + timedelta(minutes=30)),  # 13:00: the first hour of the window
        (1, "alice", NOW - timedelta(days=2)),
        (1, "alice", NOW),
        (1, "bob", NOW - timedelta(days=1)),
        (1, "bob", NOW - timedelta(days=1)),
        (1, "bob", NOW - timedelta(days=1)),
        (2, None, NOW - timedelta(hours=1)),
        (2, "future", NOW + timedelta(hours=1)),  # after ``now``: not in a report for ``now``
    ]
    for version, principal, moment in calls:
        clock.now = moment
        recorder.record(version, principal)
    await recorder.flush()

    assert await usage_report(database, now=NOW) == [
        PrincipalUsage(1, "bob", 3, NOW - timedelta(days=1)),
        PrincipalUsage(1, "alice", 2, NOW),
        PrincipalUsage(1, "edge", 1, start + timedelta(minutes=30)),
        PrincipalUsage(2, ANONYMOUS, 1, NOW - timedelta(hours=1)),
    ]
    assert await usage_report(database, days=1, version=1, now=NOW) == [
        PrincipalUsage(1, "alice", 1, NOW),
    ]
    assert [row.principal for row in await usage_report(database, days=31, now=NOW)] == [
        "bob",
        "alice",
        "edge",
        "old",
        ANONYMOUS,
    ]
    assert await usage_report(database, version=3, now=NOW) == []
    with pytest.raises(ValueError, match="days must be at least 1"):
        await usage_report(database, days=0)


async def test_a_failed_flush_keeps_the_counts_for_the_next(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = UsageRecorder(database, flush_seconds=0.01, clock=Clock())
    recorder.record(1, "alice")
    await recorder.flush()
    working = database.engine
    database.engine = create_async_engine(UNREACHABLE)  # the database goes away
    try:
        recorder.record(1, "alice")
        recorder.record(2, None)
        with pytest.raises(OSError, match="Connect call failed"):
            await recorder.flush()
        assert recorder.pending_requests == 2

        # The background task survives the outage, warns once, and keeps counting.
        with caplog.at_level(logging.WARNING, logger="gateway"):
            await recorder.start()
            for _ in range(3):
                recorder.record(1, "alice")
                await asyncio.sleep(0.03)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].startswith("usage counts: cannot write to the database (")
        assert recorder.pending_requests == 5
    finally:
        await database.engine.dispose()
        database.engine = working  # the database is back
    await recorder.stop()

    assert recorder.pending_requests == 0
    assert await stored(database) == {
        (1, "alice", hour(NOW)): (5, NOW),
        (2, ANONYMOUS, hour(NOW)): (1, NOW),
    }


async def test_stop_gives_up_on_a_hung_database_and_keeps_the_counts(
    database: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def hang(*_: Any) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(usage_module, "_write", hang)
    recorder = UsageRecorder(database, flush_seconds=0.01, stop_timeout=0.1)
    recorder.record(1, "alice")
    await recorder.start()
    await asyncio.sleep(0.05)  # the background write is now stuck
    with caplog.at_level(logging.WARNING, logger="gateway"):
        await asyncio.wait_for(recorder.stop(), 2)
    assert recorder.pending_requests == 1  # cancelled writes put their batch back
    assert "1 requests could not be written at shutdown: timed out" in caplog.text


async def test_long_subjects_are_cut_to_the_column_width(database: Database) -> None:
    recorder = UsageRecorder(database, clock=Clock())
    recorder.record(1, "x" * 100)
    await recorder.flush()
    assert list(await stored(database)) == [(1, "x" * 64, hour(NOW))]


async def test_postgresql_upserts_add_up_across_processes() -> None:
    database = Database(DatabaseSettings(url=POSTGRESQL_URL))
    try:
        await asyncio.wait_for(database.ping(), 5)
    except Exception as error:  # whatever stops it answering: refused, timed out, no auth
        await database.dispose()
        pytest.skip(
            f"PostgreSQL is not reachable at {POSTGRESQL_URL} ({type(error).__name__}: {error}); "
            "this test needs a server on 127.0.0.1:5432 with trust authentication for the user "
            "postgres and a database named test: start it with `pg_ctlcluster "
            "--skip-systemctl-redirect <version> main start` (see `pg_lsclusters`), or set "
            "TEST_POSTGRESQL_URL"
        )
    # A version number of our own: the database may be shared with other tests and runs.
    version = 1_000_000 + uuid.uuid4().int % 1_000_000_000
    tables = [Base.metadata.tables[name] for name in ("version_usage", "version_last_call")]
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all, tables=tables)
        clock = Clock()
        workers = [UsageRecorder(database, clock=clock) for _ in range(2)]
        for index in range(200):
            workers[index % 2].record(version, "alice" if index % 4 else None)
        clock.now = NOW + timedelta(seconds=1)
        workers[0].record(version, "alice")
        # Both workers write the same rows at once: sorted batches, so no deadlock.
        assert await asyncio.gather(*(w.flush() for w in workers)) == [101, 100]
        workers[1].record(version, "alice")
        await workers[1].flush()

        report = await usage_report(database, version=version, now=NOW)
        assert report == [
            PrincipalUsage(version, "alice", 152, NOW + timedelta(seconds=1)),
            PrincipalUsage(version, ANONYMOUS, 50, NOW),
        ]
        assert all(type(row.requests) is int for row in report)
        activity = await workers[0].recent(NOW)
        assert activity[version] == VersionActivity(202, NOW + timedelta(seconds=1))
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(delete(VersionUsage).where(VersionUsage.version == version))
            await connection.execute(
                delete(VersionLastCall).where(VersionLastCall.version == version)
            )
        await database.dispose()
