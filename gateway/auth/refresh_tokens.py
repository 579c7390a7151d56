"""Refresh tokens: opaque, single-use, rotated on every use, in families (OAuth 2.0 Security BCP,
RFC 9700 4.14.2).

A password grant starts a family; each refresh marks the presented token used and issues the
next one in the same family. Presenting a token that was already used means it leaked (or two
clients share it): the whole family is revoked, and so are the access tokens issued from it.

Only a SHA-256 of each token is stored: the tokens carry 256 random bits, so a fast hash is as
safe as a slow one, and a stolen database yields no usable token.

Expired rows are deleted (``prune_expired``): an expired token is refused before it is marked
used, so it never takes part in replay detection, which concerns unexpired tokens only.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from gateway.errors import RefreshError
from gateway.storage.database import Base, Database, UTCDateTime


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    username: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    scopes: Mapped[str] = mapped_column(String(1024))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Rotation:
    """The outcome of a refresh: who, which scopes, and the family's next token."""

    username: str
    scopes: tuple[str, ...]
    family: str
    refresh_token: str


# A rotation checks expiry, then marks the row used: a row is deleted only well after it
# expired, so no rotation that saw it unexpired can find it gone.
PRUNE_AFTER = timedelta(hours=1)


async def prune_expired(database: Database, now: datetime | None = None) -> int:
    """Delete the refresh tokens that expired more than ``PRUNE_AFTER`` ago; return how many.

    One idempotent ``DELETE ... WHERE expires_at <= cutoff``, safe on several instances at once.
    """
    cutoff = (now or _now()) - PRUNE_AFTER
    async with database.sessions() as session:
        result = await session.execute(
            delete(RefreshToken).where(RefreshToken.expires_at <= cutoff)
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class RefreshTokens:
    """Issues, rotates and revokes refresh tokens within one session; the caller commits."""

    def __init__(self, session: AsyncSession, lifetime: timedelta) -> None:
        self.session = session
        self.lifetime = lifetime

    async def start_family(self, username: str, version: int, scopes: tuple[str, ...]) -> Rotation:
        family = uuid.uuid4().hex
        token = await self._issue(family, username, version, scopes)
        return Rotation(username, scopes, family, token)

    async def rotate(self, token: str, version: int) -> Rotation:
        """Use ``token`` once and return the family's next token.

        Raises ``RefreshError`` for an unknown, expired, revoked or foreign token, and revokes
        the family (``family_revoked``) when the token had already been used.
        """
        row = await self.session.get(RefreshToken, digest(token))
        if row is None or row.version != version:
            raise RefreshError("The refresh token is invalid")
        now = _now()
        if row.revoked_at is not None:
            raise RefreshError("The refresh token was revoked")
        if row.expires_at <= now:
            raise RefreshError("The refresh token expired")
        # Compare-and-set: of two concurrent uses, exactly one wins; the other is a replay.
        claimed = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == row.token_hash, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            await self.revoke_family(row.family)
            raise RefreshError(
                "The refresh token was already used; its family is revoked", row.family
            )
        scopes = tuple(row.scopes.split())
        next_token = await self._issue(row.family, row.username, version, scopes)
        return Rotation(row.username, scopes, row.family, next_token)

    async def family_of(self, token: str, version: int) -> str | None:
        row = await self.session.get(RefreshToken, digest(token))
        return row.family if row is not None and row.version == version else None

    async def revoke_family(self, family: str) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=_now())
        )

    async def latest_expiry(self, family: str) -> datetime | None:
        result = await self.session.execute(
            select(RefreshToken.expires_at)
            .where(RefreshToken.family == family)
            .order_by(RefreshToken.expires_at.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def _issue(
        self, family: str, username: str, version: int, scopes: tuple[str, ...]
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = _now()
        self.session.add(
            RefreshToken(
                token_hash=digest(token),
                family=family,
                username=username,
                version=version,
                scopes=" ".join(scopes),
                issued_at=now,
                expires_at=now + self.lifetime,
            )
        )
        await self.session.flush()
        return token
