"""Usage counts: who calls which version, per UTC hour, so a version can be retired knowingly.

The dispatcher calls ``UsageRecorder.record`` after each request a version served. That only
bumps a counter in memory: serving never waits for the database. A background task writes the
counters every few seconds in one transaction, as upserts that *add* to the stored rows, so
restarts and several worker processes sum up instead of overwriting one another. When a write
fails, the counts go back into memory and the next flush retries them.

Two tables: ``version_usage`` keeps one row per version, principal and hour (the CLI's report
sums them over days, ``/versions`` over the last 24 hours); ``version_last_call`` keeps one row
per version, so "when was it last called" never scans the whole history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Executable, String, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from gateway.errors import SettingsError
from gateway.storage.database import Base, Database, UTCDateTime

log = logging.getLogger("gateway")

# Usernames start with a letter or digit (gateway.users.USERNAME), so no user can be this one.
ANONYMOUS = "(anonymous)"
PRINCIPAL_LENGTH = 64
HOUR = timedelta(hours=1)
DIALECTS = ("sqlite", "postgresql")  # the two with INSERT ... ON CONFLICT that the gateway runs on

Clock = Callable[[], datetime]
_Key = tuple[int, str, datetime]  # version, principal, start of the UTC hour


class VersionUsage(Base):
    """Requests to one version by one principal within one UTC hour."""

    __tablename__ = "version_usage"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    principal: Mapped[str] = mapped_column(String(PRINCIPAL_LENGTH), primary_key=True)
    # Indexed on its own too: every report reads a window of hours across all versions.
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    requests: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class VersionLastCall(Base):
    """The latest request each version served, ever."""

    __tablename__ = "version_last_call"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class VersionActivity:
    """What ``/versions`` shows: requests in the last 24 hours and the latest call."""

    requests_24h: int = 0
    last_called: datetime | None = None


@dataclass(frozen=True)
class PrincipalUsage:
    """One line of the usage report: a principal's requests to a version within the window."""

    version: int
    principal: str
    requests: int
    last_seen: datetime


@dataclass(slots=True)
class _Count:
    requests: int
    last_seen: datetime


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UsageRecorder:
    """Counts requests in memory and writes them to the database in the background.

    ``record`` is the only method the request path calls. ``start``/``stop`` belong in the
    gateway's lifespan; ``stop`` writes what is left, so a clean shutdown loses nothing.
    ``clock`` must return timezone-aware UTC datetimes; tests pass their own.
    """

    def __init__(
        self,
        database: Database,
        flush_seconds: float = 5.0,
        *,
        stop_timeout: float = 10.0,
        clock: Clock = _utcnow,
    ) -> None:
        dialect = database.engine.dialect.name
        if dialect not in DIALECTS:
            raise SettingsError(f"usage counts need SQLite or PostgreSQL, not {dialect}")
        if flush_seconds <= 0:
            raise ValueError(f"flush_seconds must be positive, got {flush_seconds}")
        self.database = database
        self.flush_seconds = flush_seconds
        self.stop_timeout = stop_timeout
        self._clock = clock
        self._pending: dict[_Key, _Count] = {}
        self._hour = self._next_hour = datetime.min.replace(tzinfo=UTC)  # of the latest request
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._failing = False

    def record(self, version: int, principal: str | None) -> None:
        """Count one request to ``version`` by ``principal`` (``None``: no verified token).

        Synchronous and free of I/O: a dictionary update on the request path.
        """
        now = self._clock()
        hour = self._hour
        if not hour <= now < self._next_hour:  # truncating costs more than comparing
            hour = self._hour = hour_of(now)
            self._next_hour = hour + HOUR
        # Truncated so that one odd subject cannot make every later batch fail to insert.
        who = principal[:PRINCIPAL_LENGTH] if principal else ANONYMOUS
        key = (version, who, hour)
        count = self._pending.get(key)
        if count is None:
            self._pending[key] = _Count(1, now)
        else:
            count.requests += 1
            if now > count.last_seen:
                count.last_seen = now

    @property
    def pending_requests(self) -> int:
        """Requests counted but not yet written."""
        return sum(count.requests for count in self._pending.values())

    def pending_counts(self) -> list[tuple[int, datetime, int]]:
        """The counts not yet written, as (version, hour, requests) per principal and hour."""
        return [(version, hour, c.requests) for (version, _, hour), c in self._pending.items()]

    async def start(self) -> None:
        """Start writing the counts every ``flush_seconds`` in a background task."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="gateway usage writer")

    async def stop(self) -> None:
        """Stop the background task and write what is left, each within ``stop_timeout``."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            # A write in progress is allowed to finish: cancelling it mid-commit could count
            # its batch twice. Only a write that hangs is cancelled (and its batch kept).
            with suppress(TimeoutError):
                await asyncio.wait_for(task, self.stop_timeout)
        try:
            await asyncio.wait_for(self.flush(), self.stop_timeout)
        except Exception as error:  # TimeoutError included
            log.warning(
                "usage counts: %d requests could not be written at shutdown: %s",
                self.pending_requests,
                _describe(error),
            )

    async def flush(self) -> int:
        """Write the pending counts in one transaction; return how many requests it wrote.

        On failure the counts are kept for the next flush and the error is raised.
        """
        if not self._pending:
            return 0
        # Swapped, not copied: requests counted during the write go into the new dictionary.
        batch, self._pending = self._pending, {}
        try:
            await _write(self.database, batch)
        except BaseException:  # cancellation too: the batch must not be dropped
            self._merge_back(batch)
            raise
        return sum(count.requests for count in batch.values())

    async def recent(self, now: datetime | None = None) -> dict[int, VersionActivity]:
        """Each called version's requests in the 24 hours up to ``now`` and its latest call.

        Stored counts plus this process's pending ones; versions never called are absent.
        Raises ``SQLAlchemyError`` when the database cannot be read.
        """
        now = now or self._clock()
        first, last = hour_of(now) - 23 * HOUR, hour_of(now)
        requests: dict[int, int] = {}
        called: dict[int, datetime] = {}
        async with self.database.engine.connect() as connection:
            window = await connection.execute(
                select(VersionUsage.version, func.sum(VersionUsage.requests))
                .where(VersionUsage.hour >= first, VersionUsage.hour <= last)
                .group_by(VersionUsage.version)
            )
            for version, total in window:
                requests[version] = int(total)  # PostgreSQL sums BIGINT as NUMERIC
            for version, seen in await connection.execute(select(VersionLastCall.__table__)):
                called[version] = seen
        for (version, _, hour), count in self._pending.items():
            if first <= hour <= last:
                requests[version] = requests.get(version, 0) + count.requests
            if version not in called or count.last_seen > called[version]:
                called[version] = count.last_seen
        return {
            version: VersionActivity(requests.get(version, 0), called.get(version))
            for version in sorted(requests.keys() | called.keys())
        }

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.flush_seconds)
            except TimeoutError:
                await self._flush_logged()

    async def _flush_logged(self) -> None:
        # The background task must outlive a database outage: log once, keep counting, retry.
        try:
            await self.flush()
        except Exception as error:
            if not self._failing:
                log.warning(
                    "usage counts: cannot write to the database (%s); keeping %d requests in "
                    "memory and retrying every %gs",
                    _describe(error),
                    self.pending_requests,
                    self.flush_seconds,
                )
            self._failing = True
        else:
            if self._failing:
                log.warning("usage counts: written to the database again")
            self._failing = False

    def _merge_back(self, batch: dict[_Key, _Count]) -> None:
        for key, count in batch.items():
            current = self._pending.get(key)
            if current is None:
                self._pending[key] = count
            else:
                current.requests += count.requests
                current.last_seen = max(current.last_seen, count.last_seen)


async def _write(database: Database, batch: dict[_Key, _Count]) -> None:
    # Sorted so that every writer locks rows in one order: concurrent workers cannot deadlock.
    usage_rows = [
        {"version": v, "principal": p, "hour": h, "requests": c.requests, "last_seen": c.last_seen}
        for (v, p, h), c in sorted(batch.items())
    ]
    latest: dict[int, datetime] = {}
    for (version, _, _), count in batch.items():
        latest[version] = max(count.last_seen, latest.get(version, count.last_seen))
    last_rows = [{"version": v, "last_seen": seen} for v, seen in sorted(latest.items())]

    dialect = database.engine.dialect.name
    add_usage = _upsert(
        dialect,
        VersionUsage,
        ["version", "principal", "hour"],
        lambda new: {
            "requests": VersionUsage.requests + new.requests,
            "last_seen": _later(VersionUsage.last_seen, new.last_seen),
        },
    )
    add_last = _upsert(
        dialect,
        VersionLastCall,
        ["version"],
        lambda new: {"last_seen": _later(VersionLastCall.last_seen, new.last_seen)},
    )
    async with database.engine.begin() as connection:
        await connection.execute(add_usage, usage_rows)
        await connection.execute(add_last, last_rows)


def _upsert(
    dialect: str,
    model: type[Base],
    keys: list[str],
    merge: Callable[[ReadOnlyColumnCollection[str, Any]], dict[str, Any]],
) -> Executable:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET merge(excluded)`` in the dialect's words."""
    if dialect == "sqlite":
        on_sqlite = sqlite.insert(model)
        return on_sqlite.on_conflict_do_update(index_elements=keys, set_=merge(on_sqlite.excluded))
    on_postgresql = postgresql.insert(model)
    return on_postgresql.on_conflict_do_update(
        index_elements=keys, set_=merge(on_postgresql.excluded)
    )


def _later(stored: InstrumentedAttribute[datetime], new: ColumnElement[Any]) -> ColumnElement[Any]:
    # Portable max of two values: SQLite has max(a, b), PostgreSQL greatest(a, b).
    return case((new > stored, new), else_=stored)


async def usage_report(
    database: Database,
    days: int = 30,
    version: int | None = None,
    now: datetime | None = None,
) -> list[PrincipalUsage]:
    """Each principal's requests per version in the last ``days`` days (the ``days * 24`` hours
    up to and including the current one), by version, then most requests first.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    last = hour_of(now or _utcnow())
    first = last - (days * 24 - 1) * HOUR
    total = func.sum(VersionUsage.requests)
    query = (
        select(
            VersionUsage.version, VersionUsage.principal, total, func.max(VersionUsage.last_seen)
        )
        .where(VersionUsage.hour >= first, VersionUsage.hour <= last)
        .group_by(VersionUsage.version, VersionUsage.principal)
        .order_by(VersionUsage.version, total.desc(), VersionUsage.principal)
    )
    if version is not None:
        query = query.where(VersionUsage.version == version)
    async with database.engine.connect() as connection:
        result = await connection.execute(query)
        return [PrincipalUsage(v, p, int(n), seen) for v, p, n, seen in result]


async def prune_usage(database: Database, retention: timedelta, now: datetime | None = None) -> int:
    """Delete the hourly rows of hours that began more than ``retention`` before ``now``.

    One idempotent ``DELETE ... WHERE hour < cutoff``: instances running it at once delete each
    row once between them, and the writer's upserts touch only recent hours.
    """
    cutoff = hour_of(now or _utcnow()) - retention
    async with database.engine.begin() as connection:
        result = await connection.execute(delete(VersionUsage).where(VersionUsage.hour < cutoff))
    return int(result.rowcount or 0)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    cause = getattr(error, "orig", None) or error
    return f"{type(cause).__name__}: {cause}".splitlines()[0]
