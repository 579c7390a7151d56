"""Lookups: reads of a row or a few that skip what a transaction costs.

A request that only looks something up (the caller of ``/users/me``, say) needs no session, no
transaction and no pre-ping, and each of those is a round trip: on SQLite a hand-off to
aiosqlite's worker thread and back, on PostgreSQL a message to the server. The profile of the
database route showed them costing several times the rest of the request (docs/bench.md).

- On a SQLite file, the statement runs on the calling thread, the event loop's, through
  SQLAlchemy's own pysqlite driver: a lookup by key in a cached page takes microseconds, less
  than one thread hand-off (a page not in the OS cache is read from disk while the loop waits,
  as in any synchronous read). In WAL mode a reader never waits for a writer; the reading
  connection has ``busy_timeout=0``, so the rare read that would wait (another process holding
  the file in exclusive mode, or recovering its WAL) fails at once and is made again the
  ordinary way, in aiosqlite's thread, which may wait without holding up the loop.
- Elsewhere, on an autocommit connection of a pool without pre-ping: one round trip. A lookup
  that finds its connection gone (a restarted server) is made once more; the pool drops the
  other stale connections when it sees the first.
  The pool keeps ``POOL_SIZE`` connections, beside the gateway's own engine's, and a lookup that
  finds them all busy for ``POOL_TIMEOUT`` seconds fails as an unavailable database (a 503).
- An in-memory SQLite database is one connection's own, and a ``file:`` URI may name one, so
  both are read through the gateway's engine itself.

Nothing is cached: every lookup sees what was committed before it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, Executable, RowMapping, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

POOL_SIZE = 5
POOL_TIMEOUT = 5  # seconds, as the connect timeout of PostgreSQL


class Lookups:
    """``await lookups.one(statement, parameters)``: the first row's mapping, or ``None``."""

    def __init__(
        self, url: URL, engine: AsyncEngine, *, echo: bool, connect_args: Mapping[str, Any]
    ) -> None:
        self._engine = engine  # the fallback on SQLite; the in-memory database's only way
        self._local: Engine | None = None
        self._own: AsyncEngine | None = None
        if url.get_backend_name() == "sqlite":
            if is_sqlite_file(url.database):
                self._local = create_engine(
                    url.set(drivername="sqlite+pysqlite"),
                    echo=echo,
                    # Each connection is used by one thread at a time, the loop's that checked
                    # it out; the engine is shared by loops in threads of their own (tests).
                    connect_args={"check_same_thread": False, "timeout": 0},
                )
                event.listen(self._local, "connect", _tune_reader)
        else:
            self._own = create_async_engine(
                url,
                echo=echo,
                isolation_level="AUTOCOMMIT",
                connect_args=dict(connect_args),
                # A lookup holds its connection for one round trip: a few kept open serve
                # thousands a second, and a burst waits for one instead of opening (and then
                # closing) connections of its own, which the profile showed costing the most.
                pool_size=POOL_SIZE,
                max_overflow=0,
                pool_timeout=POOL_TIMEOUT,
            )

    async def one(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> RowMapping | None:
        if self._local is not None:
            try:
                with self._local.connect() as connection:
                    return connection.execute(statement, parameters).mappings().first()
            except OperationalError as error:
                if not _is_busy(error):
                    raise
            # Busy: read in aiosqlite's thread, which waits for the file without blocking.
        if self._own is None:
            return await self._read(self._engine, statement, parameters)
        try:
            return await self._read(self._own, statement, parameters)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        return await self._read(self._own, statement, parameters)

    @staticmethod
    async def _read(
        engine: AsyncEngine, statement: Executable, parameters: Mapping[str, Any] | None
    ) -> RowMapping | None:
        async with engine.connect() as connection:
            return (await connection.execute(statement, parameters)).mappings().first()

    async def dispose(self) -> None:
        try:
            if self._local is not None:
                self._local.dispose()
        finally:
            if self._own is not None:
                await self._own.dispose()


def is_sqlite_file(database: str | None) -> bool:
    """Whether a SQLite URL's database is a plain file path (not ``:memory:``, not a ``file:``
    URI, which may name an in-memory database), that another connection opens as the same."""
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _is_busy(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlite_errorcode", 0) & 0xFF  # SQLITE_BUSY_RECOVERY and the like
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _tune_reader(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")  # the busy timeout, 0, is the connect argument's
    cursor.close()
