"""Lookups: a row read without a session sees every commit before it, on a SQLite file never
hands the read to aiosqlite's thread unless the file is locked (and then does not block the
event loop), and on PostgreSQL survives a connection the server dropped and gives up on a
pool with no connection free in time as on a database that is down."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.auth.users import User, UserStore
from gateway.settings import DatabaseSettings
from gateway.storage import reads
from gateway.storage.database import Database
from gateway.versioning.mounting import DATABASE_DOWN
from tests.postgres import fresh_database

pytestmark = pytest.mark.anyio
BY_NAME = select(User.username, User.scopes).where(User.username == bindparam("username"))


@asynccontextmanager
async def database_with_alice(url: str) -> AsyncIterator[Database]:
    database = Database(DatabaseSettings(url=url))
    try:
        await database.create_tables()
        async with database.sessions() as session:
            await UserStore(session).add("alice", "hash", ["items:read"])
            await session.commit()
        yield database
    finally:
        await database.dispose()


def count_statements(database: Database) -> list[str]:
    """The statements the gateway's own (aiosqlite or asyncpg) engine runs from now on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def lookup_alice(database: Database) -> dict[str, Any] | None:
    row = await database.lookups.one(BY_NAME, {"username": "alice"})
    return dict(row) if row is not None else None


async def test_a_lookup_on_a_sqlite_file_sees_each_commit_without_aiosqlite(
    tmp_path: Path,
) -> None:
    async with database_with_alice(f"sqlite+aiosqlite:///{tmp_path / 'db'}") as database:
        through_engine = count_statements(database)
        assert await lookup_alice(database) == {"username": "alice", "scopes": "items:read"}
        assert through_engine == []
        async with database.sessions() as session:
            await UserStore(session).remove("alice")
            await session.commit()
        writes = len(through_engine)
        assert await lookup_alice(database) is None
        assert len(through_engine) == writes  # the lookups ran on the loop's own connection


async def test_a_lookup_in_memory_reads_the_gateways_own_connection() -> None:
    async with database_with_alice("sqlite+aiosqlite://") as database:
        through_engine = count_statements(database)
        assert await lookup_alice(database) == {"username": "alice", "scopes": "items:read"}
        assert through_engine  # a second connection would see another, empty, database


async def test_a_locked_sqlite_file_waits_in_a_thread_not_on_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "db"
    async with database_with_alice(f"sqlite+aiosqlite:///{path}") as database:
        await database.engine.dispose()  # an exclusive lock needs the file to itself
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE users SET scopes = 'items:write' WHERE username = 'alice'")
        holder.execute("COMMIT")  # exclusive locking mode keeps the lock after the commit
        lookup = asyncio.ensure_future(lookup_alice(database))
        try:
            started = time.monotonic()
            await asyncio.sleep(0.3)
            assert time.monotonic() - started < 0.6, "the event loop was held up by the lookup"
            assert not lookup.done()
        finally:
            holder.close()
        assert await asyncio.wait_for(lookup, 10) == {"username": "alice", "scopes": "items:write"}


async def test_a_lookup_on_postgresql_survives_a_dropped_connection() -> None:
    async with fresh_database() as url, database_with_alice(url) as database:
        assert await lookup_alice(database) is not None  # its connection now waits in the pool
        admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                dropped = await connection.execute(
                    text(
                        # Waits until each backend has gone (PostgreSQL 14 and later).
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                terminated = dropped.scalars().all()
                assert terminated
                assert all(terminated)
        finally:
            await admin.dispose()
        assert await lookup_alice(database) == {"username": "alice", "scopes": "items:read"}


async def test_a_lookup_with_no_connection_free_in_time_is_a_database_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reads, "POOL_SIZE", 1)
    monkeypatch.setattr(reads, "POOL_TIMEOUT", 0.2)
    async with fresh_database() as url, database_with_alice(url) as database:
        slow = asyncio.ensure_future(database.lookups.one(select(func.pg_sleep(1))))
        await asyncio.sleep(0.1)  # the slow one holds the pool's only connection
        with pytest.raises(DATABASE_DOWN):  # answered 503 with Retry-After
            await lookup_alice(database)
        await slow
