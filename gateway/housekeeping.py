"""Pruning the tables that would otherwise only grow: hourly usage rows past
``usage.retention_days``, revocations whose tokens can no longer be accepted, expired refresh
tokens.

Each instance prunes once at startup and then every hour, in a background task that never
holds up startup or a request. Several instances need no coordination: each prune is one
idempotent ``DELETE ... WHERE <older than a cutoff>`` in a transaction of its own, on rows no
live request writes (old hours, expired revocations, expired tokens). Run at once, the
statements delete each row once between them, and the rest find nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from gateway.auth.refresh_tokens import prune_expired
from gateway.auth.revocations import RevocationList
from gateway.storage.database import Database
from gateway.usage.recorder import prune_usage

log = logging.getLogger("gateway")
PRUNE_SECONDS = 3600.0


@dataclass(frozen=True)
class Pruned:
    """How many rows one round deleted, per table."""

    usage: int
    revocations: int
    refresh_tokens: int


class Housekeeping:
    """Prunes at ``start`` and then every ``interval_seconds`` until ``stop``."""

    def __init__(
        self,
        database: Database,
        revocations: RevocationList,
        usage_retention: timedelta,
        interval_seconds: float = PRUNE_SECONDS,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError(f"interval_seconds must be positive, got {interval_seconds}")
        self.database = database
        self.revocations = revocations
        self.usage_retention = usage_retention
        self.interval_seconds = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def prune(self) -> Pruned:
        """One round: every table, each in a transaction of its own."""
        return Pruned(
            usage=await prune_usage(self.database, self.usage_retention),
            revocations=await self.revocations.purge(),
            refresh_tokens=await prune_expired(self.database),
        )

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="gateway housekeeping")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                pruned = await self.prune()
            except (SQLAlchemyError, OSError) as error:
                # The next round tries again; nothing is lost by waiting.
                log.warning("housekeeping: cannot prune old rows: %s", error)
            else:
                if any(vars(pruned).values()):
                    log.info(
                        "housekeeping: deleted %d usage rows, %d revocations, %d refresh tokens",
                        pruned.usage,
                        pruned.revocations,
                        pruned.refresh_tokens,
                    )
            await asyncio.sleep(self.interval_seconds)
