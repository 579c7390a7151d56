"""Schema migrations: they build exactly the tables the code declares, on SQLite and
PostgreSQL; a database that is behind stops the gateway unless it is a local SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

import gateway.auth.refresh_tokens
import gateway.auth.revocations
import gateway.usage.recorder  # noqa: F401
import versions._items  # noqa: F401
from gateway import GatewayError, Settings
from gateway.settings import DatabaseSettings
from gateway.storage.database import Base, Database
from gateway.storage.migrate import alembic_config, ensure_current, schema_state, upgrade
from tests.postgres import fresh_database

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[3]
CONFIG = alembic_config(REPO / "versions")


def differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def assert_matches_models(url: str) -> None:
    database = Database(DatabaseSettings(url=url))
    try:
        await upgrade(database, CONFIG)
        current, heads = await schema_state(database, CONFIG)
        assert current == heads
        assert {"0002", "items_0001"} <= heads
        async with database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await database.dispose()


async def test_migrations_build_the_declared_tables_on_sqlite(tmp_path: Path) -> None:
    await assert_matches_models(f"sqlite+aiosqlite:///{tmp_path / 'db'}")


async def test_migrations_build_the_declared_tables_on_postgresql() -> None:
    async with fresh_database() as url:
        await assert_matches_models(url)


async def test_local_sqlite_upgrades_itself(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    database = Database(settings.database)
    try:
        await ensure_current(database, settings, CONFIG)
        current, heads = await schema_state(database, CONFIG)
        assert current == heads
    finally:
        await database.dispose()


async def test_production_database_behind_refuses(make_settings: Callable[..., Settings]) -> None:
    async with fresh_database() as url:
        settings = make_settings(database={"url": url}, server={"environment": "production"})
        database = Database(settings.database)
        try:
            with pytest.raises(GatewayError) as raised:
                await ensure_current(database, settings, CONFIG)
            message = str(raised.value)
            assert message.startswith(f"the database {database.display_url} is behind the code")
            assert message.endswith("run `gateway db upgrade`")
            await upgrade(database, CONFIG)
            await ensure_current(database, settings, CONFIG)  # now it is current
        finally:
            await database.dispose()


async def test_database_from_newer_code_is_refused(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    database = Database(settings.database)
    try:
        await upgrade(database, CONFIG)
        async with database.engine.begin() as connection:
            await connection.exec_driver_sql(
                "UPDATE alembic_version SET version_num = 'future' WHERE version_num = '0002'"
            )
        with pytest.raises(GatewayError, match="revision future, which this gateway does not know"):
            await ensure_current(database, settings, CONFIG)
    finally:
        await database.dispose()
