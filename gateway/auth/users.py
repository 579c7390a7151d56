"""Users: the accounts that log in at every version's token route, and their granted scopes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from gateway.errors import UserError
from gateway.storage.database import Base, UTCDateTime
from gateway.storage.reads import Lookups

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8  # OWASP Authentication Cheat Sheet: at least 8 characters
MAX_PASSWORD_LENGTH = 1024  # bounds the work one login can ask of the hasher


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: datetime.now(UTC))

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


@dataclass(frozen=True, slots=True)
class Account:
    """A user as a lookup reads it, for a request that only needs to know who it is."""

    username: str
    scopes: str
    created_at: datetime

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


_ACCOUNT = select(User.username, User.scopes, User.created_at).where(
    User.username == bindparam("username")
)


async def find_account(lookups: Lookups, username: str) -> Account | None:
    """The user named ``username``, read without a session (``gateway.storage.reads``)."""
    row = await lookups.one(_ACCOUNT, {"username": username})
    return Account(**row) if row is not None else None


def check_username(username: str) -> None:
    if not USERNAME.match(username):
        raise UserError(
            f"invalid username {username!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"password too long: use at most {MAX_PASSWORD_LENGTH} characters")


class UserStore:
    """Reads and writes users within one session; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, username: str) -> User | None:
        result = await self.session.execute(select(User).where(User.username == username))
        return result.scalar_one_or_none()

    async def list(self) -> Sequence[User]:
        result = await self.session.execute(select(User).order_by(User.username))
        return result.scalars().all()

    async def add(self, username: str, password_hash: str, scopes: Iterable[str]) -> User:
        check_username(username)
        user = User(username=username, password_hash=password_hash, scopes=" ".join(scopes))
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            raise UserError(f"user {username!r} already exists") from None
        return user

    async def remove(self, username: str) -> None:
        result = await self.session.execute(delete(User).where(User.username == username))
        if getattr(result, "rowcount", 0) == 0:
            raise UserError(f"no user named {username!r}")

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        await self.session.execute(
            update(User).where(User.username == username).values(password_hash=password_hash)
        )
