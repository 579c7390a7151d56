"""Pruning: usage rows past the retention, revocations whose tokens can no longer be accepted and
expired refresh tokens go; everything newer stays; the schedule runs by itself, at startup and
then every interval; several instances pruning at once delete each row once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway import Settings, create_app
from gateway.auth.refresh_tokens import RefreshToken, RefreshTokens, prune_expired
from gateway.auth.revocations import Revocation, RevocationList
from gateway.auth.users import User
from gateway.errors import RefreshError
from gateway.housekeeping import Housekeeping
from gateway.settings import DatabaseSettings
from gateway.storage.database import Base, Database
from gateway.storage.migrate import prepare
from gateway.usage.recorder import VersionUsage, hour_of, prune_usage
from gateway.versioning.discovery import migrations_for
from tests.postgres import fresh_database

pytestmark = pytest.mark.anyio


def now() -> datetime:
    # Per call, not per import: the whole suite can run for minutes before these tests do.
    return datetime.now(UTC)


RETENTION = timedelta(days=400)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    found = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"))
    await found.create_tables()
    yield found
    await found.dispose()


async def add(database: Database, *rows: Base) -> None:
    async with database.sessions() as session:
        session.add_all(rows)
        await session.commit()


async def count(database: Database, model: type[Base]) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def usage_row(age: timedelta, principal: str = "alice") -> VersionUsage:
    hour = hour_of(now() - age)
    return VersionUsage(version=1, principal=principal, hour=hour, requests=3, last_seen=hour)


def revocation(expires_at: datetime, token_id: str) -> Revocation:
    return Revocation(token_id=token_id, expires_at=expires_at, created_at=now())


async def test_usage_rows_past_the_retention_go_and_newer_ones_stay(database: Database) -> None:
    await add(
        database,
        usage_row(RETENTION + timedelta(days=1), "old"),
        usage_row(RETENTION - timedelta(days=1), "kept"),
        usage_row(timedelta(0), "today"),
    )
    assert await prune_usage(database, RETENTION) == 1
    async with database.sessions() as session:
        left = set(await session.scalars(select(VersionUsage.principal)))
    assert left == {"kept", "today"}
    assert await prune_usage(database, RETENTION) == 0  # idempotent


async def test_a_revocation_stays_until_its_token_cannot_be_accepted(database: Database) -> None:
    # Tokens are accepted up to the leeway after they expire: so long, the revocation holds.
    revocations = RevocationList(database, leeway=timedelta(minutes=5))
    await add(
        database,
        revocation(now() - timedelta(minutes=10), "expired"),
        revocation(now() - timedelta(minutes=1), "within-leeway"),
        revocation(now() + timedelta(minutes=10), "live"),
    )
    assert await revocations.purge() == 1
    await revocations.refresh()
    assert not revocations.is_revoked("expired", None)
    assert revocations.is_revoked("within-leeway", None)
    assert revocations.is_revoked("live", None)
    async with database.sessions() as session:
        left = set(await session.scalars(select(Revocation.token_id)))
    assert left == {"within-leeway", "live"}


async def test_expired_refresh_tokens_go_and_replay_detection_still_holds(
    database: Database,
) -> None:
    await add(database, User(username="alice", password_hash="x", scopes=""))
    async with database.sessions() as session:
        tokens = RefreshTokens(session, timedelta(days=14))
        first = await tokens.start_family("alice", 1, ())
        await tokens.rotate(first.refresh_token, 1)  # used: presenting it again is a replay
        await session.commit()
    old = RefreshToken(
        token_hash="0" * 64,
        family="f" * 32,
        username="alice",
        version=1,
        scopes="",
        issued_at=now() - timedelta(days=20),
        expires_at=now() - timedelta(days=6),
    )
    await add(database, old)
    assert await prune_expired(database) == 1
    assert await count(database, RefreshToken) == 2
    async with database.sessions() as session:
        with pytest.raises(RefreshError) as replay:
            await RefreshTokens(session, timedelta(days=14)).rotate(first.refresh_token, 1)
    assert replay.value.family_revoked == first.family


async def test_the_schedule_prunes_at_start_and_then_every_interval(database: Database) -> None:
    await add(database, usage_row(RETENTION * 2, "before-start"))
    housekeeping = Housekeeping(
        database, RevocationList(database), RETENTION, interval_seconds=0.05
    )
    await housekeeping.start()
    try:
        await until_empty(database, VersionUsage)
        # Rows that grow old while it runs go in a later round.
        await add(database, usage_row(RETENTION * 2, "later"), revocation(now(), "expired"))
        await until_empty(database, VersionUsage)
        await until_empty(database, Revocation)
    finally:
        await housekeeping.stop()


async def test_the_gateway_prunes_with_usage_retention_days(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(usage={"retention_days": 1})
    gateway = create_app(settings)
    database = gateway.state.gateway.database
    await prepare(database, settings, migrations_for(settings.versions))  # as the lifespan does
    await add(database, usage_row(timedelta(days=2), "old"), usage_row(timedelta(0), "new"))
    async with gateway.router.lifespan_context(gateway):
        for _ in range(100):
            if await count(database, VersionUsage) == 1:
                break
            await asyncio.sleep(0.02)
    async with database.sessions() as session:
        assert set(await session.scalars(select(VersionUsage.principal))) == {"new"}


async def test_instances_pruning_at_once_on_postgresql_delete_each_row_once() -> None:
    async with fresh_database() as url:
        database = Database(DatabaseSettings(url=url))
        try:
            await database.create_tables()
            await add(database, *(usage_row(RETENTION * 2, f"p{n}") for n in range(200)))
            await add(
                database, *(revocation(now() - timedelta(hours=1), f"t{n}") for n in range(50))
            )
            rounds = [
                Housekeeping(database, RevocationList(database), RETENTION).prune()
                for _ in range(4)
            ]
            done = await asyncio.gather(*rounds)
            assert sum(pruned.usage for pruned in done) == 200
            assert sum(pruned.revocations for pruned in done) == 50
            assert await count(database, VersionUsage) == 0
        finally:
            await database.dispose()


async def until_empty(database: Database, model: type[Base], seconds: float = 5) -> None:
    for _ in range(int(seconds / 0.02)):
        if await count(database, model) == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{model.__tablename__} still has rows after {seconds} s")
