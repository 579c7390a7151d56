"""Revoked access tokens, honoured by every instance within a second.

Access tokens are JWTs checked without a database round trip; to take one back before it
expires, its ``jti`` (or the refresh-token ``family`` it came from) is written to the
``revocations`` table. Every instance keeps the unexpired revocations in memory, so the check on
the request path is a set look-up, and polls the table for new rows every half second
(``POLL_SECONDS``): a revocation made on one instance is enforced on all of them within a second.
If the database cannot be polled, the instance keeps the list it has and tries again.

A token is accepted up to ``auth.leeway_seconds`` after its ``exp``, so a revocation is kept,
in memory and in the table, until that long after the expiry it was written with.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.database import Base, Database, UTCDateTime

log = logging.getLogger("gateway")
POLL_SECONDS = 0.5


class Revocation(Base):
    __tablename__ = "revocations"

    # Increasing ids let each instance ask only for what it has not seen.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    family: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Once every token it covers has expired, the row can go.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RevocationList:
    """This instance's view of the revocations, kept current by polling the database."""

    def __init__(
        self,
        database: Database,
        poll_seconds: float = POLL_SECONDS,
        *,
        leeway: timedelta = timedelta(0),
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.leeway = leeway
        self._token_ids: dict[str, datetime] = {}
        self._families: dict[str, datetime] = {}
        self._last_id = 0
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def is_revoked(self, token_id: str | None, family: str | None) -> bool:
        return (token_id is not None and token_id in self._token_ids) or (
            family is not None and family in self._families
        )

    async def revoke(
        self, expires_at: datetime, token_id: str | None = None, family: str | None = None
    ) -> None:
        """Record a revocation for every instance, and enforce it here at once."""
        async with self.database.sessions() as session:
            session.add(
                Revocation(
                    token_id=token_id,
                    family=family,
                    expires_at=expires_at,
                    created_at=datetime.now(UTC),
                )
            )
            await session.commit()
        self._remember(token_id, family, expires_at)

    async def refresh(self) -> None:
        """Load the revocations written since the last look (by any instance)."""
        now = datetime.now(UTC) - self.leeway
        async with self.database.sessions() as session:
            rows = (
                await session.scalars(
                    select(Revocation)
                    .where(Revocation.id > self._last_id, Revocation.expires_at > now)
                    .order_by(Revocation.id)
                )
            ).all()
        for row in rows:
            self._remember(row.token_id, row.family, row.expires_at)
            self._last_id = max(self._last_id, row.id)
        self._forget_expired(now)

    async def purge(self) -> int:
        """Delete the rows whose tokens can no longer be accepted; returns how many went.

        One idempotent ``DELETE ... WHERE expires_at <= cutoff``: safe to run on several
        instances at once, and new revocations (expiring later) are never in its way.
        """
        cutoff = datetime.now(UTC) - self.leeway
        async with self.database.sessions() as session:
            result = await session.execute(
                delete(Revocation).where(Revocation.expires_at <= cutoff)
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._poll(), name="revocation-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.refresh()
            except (SQLAlchemyError, OSError) as error:
                if not self._failing:  # once per outage, not twice a second
                    log.warning("cannot read revocations, keeping the last list: %s", error)
                self._failing = True
            else:
                if self._failing:
                    log.warning("reading revocations again")
                self._failing = False

    def _remember(self, token_id: str | None, family: str | None, expires_at: datetime) -> None:
        if token_id:
            self._token_ids[token_id] = expires_at
        if family:
            self._families[family] = expires_at

    def _forget_expired(self, now: datetime) -> None:
        for entries in (self._token_ids, self._families):
            for key in [key for key, expiry in entries.items() if expiry <= now]:
                del entries[key]
