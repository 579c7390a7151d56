"""What the page at ``/`` shows of the usage counts: each version's requests per UTC day, and the
principals that call a deprecated version most.

Both read ``version_usage`` once for all versions, over a range of its indexed ``hour`` column,
and let the database do the summing: the answer is a few rows per version however many
principals and hours are stored. Days are UTC days, whatever the database server's time zone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, func, literal_column, select

from gateway.storage.database import Database
from gateway.usage.recorder import PrincipalUsage, UsageRecorder, VersionUsage, hour_of

DAYS = 30
TOP_CALLERS = 5


@dataclass(frozen=True)
class DailyRequests:
    """Requests per version on each of ``days`` (oldest first); uncalled versions are absent."""

    days: tuple[date, ...]
    counts: dict[int, tuple[int, ...]]

    def of(self, version: int) -> tuple[int, ...]:
        """``version``'s requests on each day, zero on days without any."""
        return self.counts.get(version, (0,) * len(self.days))


def utc_days(now: datetime, days: int = DAYS) -> tuple[date, ...]:
    """The ``days`` UTC days up to and including the one ``now`` falls in, oldest first."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    today = now.astimezone(UTC).date()
    return tuple(today - timedelta(days=back) for back in range(days - 1, -1, -1))


def _window(now: datetime | None, days: int) -> tuple[tuple[date, ...], datetime, datetime]:
    now = now or datetime.now(UTC)
    shown = utc_days(now, days)
    first = datetime.combine(shown[0], datetime.min.time(), UTC)
    return shown, first, hour_of(now)


def _utc_day(dialect: str) -> ColumnElement[date | str]:
    """The UTC day of ``version_usage.hour``: a date on PostgreSQL, ``YYYY-MM-DD`` on SQLite."""
    if dialect == "postgresql":
        # A literal, not a bound parameter: GROUP BY must repeat the very same expression.
        return func.date(func.timezone(literal_column("'UTC'"), VersionUsage.hour))
    return func.date(VersionUsage.hour)  # SQLite stores UTC text that its date() reads


async def requests_per_day(
    recorder: UsageRecorder, days: int = DAYS, now: datetime | None = None
) -> DailyRequests:
    """Each version's requests on each of the last ``days`` UTC days up to ``now``.

    Written counts plus the recorder's pending ones, as ``UsageRecorder.recent`` counts them.
    Raises ``SQLAlchemyError`` (or ``OSError``) when the database cannot be read.
    """
    shown, first, last = _window(now, days)
    day = _utc_day(recorder.database.engine.dialect.name).label("day")
    query = (
        select(VersionUsage.version, day, func.sum(VersionUsage.requests))
        .where(VersionUsage.hour >= first, VersionUsage.hour <= last)
        .group_by(VersionUsage.version, day)
    )
    position = {shown_day: index for index, shown_day in enumerate(shown)}
    counts: dict[int, list[int]] = {}
    async with recorder.database.engine.connect() as connection:
        for version, stored_day, total in await connection.execute(query):
            index = position[_as_date(stored_day)]
            counts.setdefault(version, [0] * days)[index] += int(total)  # NUMERIC on PostgreSQL
    for version, hour, requests in recorder.pending_counts():
        if first <= hour <= last:
            counts.setdefault(version, [0] * days)[position[hour.date()]] += requests
    return DailyRequests(shown, {version: tuple(c) for version, c in sorted(counts.items())})


async def top_callers(
    database: Database,
    versions: Collection[int],
    limit: int = TOP_CALLERS,
    days: int = DAYS,
    now: datetime | None = None,
) -> dict[int, list[PrincipalUsage]]:
    """The ``limit`` principals with the most written requests to each of ``versions`` in the
    last ``days`` UTC days, most first, each with its latest call; uncalled versions are absent.
    """
    if not versions:
        return {}
    _, first, last = _window(now, days)
    requests = func.sum(VersionUsage.requests).label("requests")
    per_principal = (
        select(
            VersionUsage.version,
            VersionUsage.principal,
            requests,
            func.max(VersionUsage.last_seen).label("last_seen"),
            func.row_number()
            .over(
                partition_by=VersionUsage.version,
                order_by=(requests.desc(), VersionUsage.principal),
            )
            .label("rank"),
        )
        .where(
            VersionUsage.version.in_(sorted(versions)),
            VersionUsage.hour >= first,
            VersionUsage.hour <= last,
        )
        .group_by(VersionUsage.version, VersionUsage.principal)
        .subquery()
    )
    query = (
        select(
            per_principal.c.version,
            per_principal.c.principal,
            per_principal.c.requests,
            per_principal.c.last_seen,
        )
        .where(per_principal.c.rank <= limit)
        .order_by(per_principal.c.version, per_principal.c.rank)
    )
    callers: dict[int, list[PrincipalUsage]] = {}
    async with database.engine.connect() as connection:
        for version, principal, total, seen in await connection.execute(query):
            callers.setdefault(version, []).append(
                PrincipalUsage(version, principal, int(total), seen)
            )
    return callers


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
