"""Storage: one SQLAlchemy async engine for the whole gateway, shared by every version.

Tables are declared on ``Base`` (the users table here in the core, resource tables in the
versions' shared domain modules) and created at startup once discovery has imported them all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Dialect, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from gateway.errors import SettingsError
from gateway.settings import DatabaseSettings
from gateway.storage.reads import Lookups, is_sqlite_file


class Base(DeclarativeBase):
    """The declarative base for every table the gateway and its versions store."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime in every database (SQLite forgets the zone on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """The engine and session factory, plus the few whole-database operations the gateway needs."""

    def __init__(self, settings: DatabaseSettings) -> None:
        try:
            url = make_url(settings.url)
        except ArgumentError:
            raise SettingsError(f"database.url {settings.url!r} is not a database URL") from None
        self.url = url
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            _ensure_sqlite_directory(url.database)
            connect_args["timeout"] = 30
        elif url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
            # A database that does not answer must fail a request in seconds, not in a minute.
            connect_args["timeout"] = 5
        try:
            self.engine: AsyncEngine = create_async_engine(
                url, echo=settings.echo, pool_pre_ping=True, connect_args=connect_args
            )
        except (ArgumentError, ImportError) as error:
            raise SettingsError(f"database.url {settings.url!r}: {error}") from None
        if url.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _tune_sqlite)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.lookups = Lookups(url, self.engine, echo=settings.echo, connect_args=connect_args)

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for logs and CLI output."""
        return self.url.render_as_string(hide_password=True)

    async def create_tables(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        try:
            await self.lookups.dispose()
        finally:
            await self.engine.dispose()


def _ensure_sqlite_directory(database: str | None) -> None:
    if database and is_sqlite_file(database):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write, and several worker processes share one file;
    # foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
