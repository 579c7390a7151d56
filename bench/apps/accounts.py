"""What every app on the database route shares, so that only the way the versions are built
differs between them: the gateway's users table and its engine settings (the same SQLite
pragmas), R2's PyJWT bearer check, the lookup of the caller on every request, and a
password-grant token route as FastAPI's tutorial writes it.

The hand-written app (``fastapi_db.py``) and the peer libraries' apps (``bench/peers``) import
it. The peers run in virtual environments of their own, so this imports nothing from the
gateway, and only what each of them installs. Settings come from the environment:
``BENCH_SECRET_KEY``, ``BENCH_ISSUER`` and ``BENCH_DATABASE_URL``, a copy of the gateway's
database (SQLite) or the gateway's own (PostgreSQL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pwdlib import PasswordHash
from pydantic import BaseModel
from sqlalchemy import DateTime, Dialect, String, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

SECRET_KEY = os.environ["BENCH_SECRET_KEY"]
ISSUER = os.environ.get("BENCH_ISSUER", "gateway")
DATABASE_URL = make_url(os.environ["BENCH_DATABASE_URL"])
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
TOKEN_MINUTES = 30


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator[datetime]):
    """The gateway's column type: a UTC datetime, which SQLite stores without its zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class User(Base):
    """The gateway's users table, read as the gateway reads it."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserOut(BaseModel):
    """The gateway's ``/users/me`` answer."""

    username: str
    scopes: list[str]
    token_scopes: list[str]
    created_at: datetime


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The gateway's pragmas (gateway/storage/database.py): libraries are compared, not journals.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# The gateway's engine arguments, for SQLite and for PostgreSQL (asyncpg).
_SQLITE = DATABASE_URL.get_backend_name() == "sqlite"
engine = create_async_engine(
    DATABASE_URL, pool_pre_ping=True, connect_args={"timeout": 30 if _SQLITE else 5}
)
if _SQLITE:
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
sessions = async_sessionmaker(engine, expire_on_commit=False)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
password_hash = PasswordHash.recommended()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


def version_of(request: Request) -> str:
    """The version a request is for, ``apiv2``: the first segment of its path, which every app
    here keeps whole in the scope (a mounted app too, since Starlette 0.33)."""
    path: str = request.scope["path"]
    return path.split("/", 2)[1]


async def token_claims(
    request: Request, token: Annotated[str, Depends(oauth2_scheme)]
) -> dict[str, Any]:
    """R2's check: the HS256 JWT verified with PyJWT, for this version's audience."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            SECRET_KEY,
            algorithms=["HS256"],
            audience=version_of(request),
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidTokenError:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    return claims


Claims = Annotated[dict[str, Any], Depends(token_claims)]
Session = Annotated[AsyncSession, Depends(get_session)]
PasswordForm = Annotated[OAuth2PasswordRequestForm, Depends()]


async def find_user(session: AsyncSession, username: str) -> User | None:
    result = await session.execute(select(User).where(User.username == username))
    return result.scalar_one_or_none()


async def me(claims: dict[str, Any], session: AsyncSession) -> UserOut:
    """The caller, loaded from the database, as the gateway's ``/users/me`` answers."""
    user = await find_user(session, claims["sub"])
    if user is None:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Unknown user")
    return UserOut(
        username=user.username,
        scopes=user.scopes.split(),
        token_scopes=sorted(claims.get("scope", "").split()),
        created_at=user.created_at,
    )


async def login(
    request: Request, form: OAuth2PasswordRequestForm, session: AsyncSession
) -> dict[str, str]:
    """A password grant: the user's argon2 hash checked, a token for this version issued."""
    user = await find_user(session, form.username)
    if user is None or not password_hash.verify(form.password, user.password_hash):
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": user.username,
        "aud": version_of(request),
        "scope": user.scopes,
        "iat": now,
        "exp": now + timedelta(minutes=TOKEN_MINUTES),
        "jti": uuid.uuid4().hex,
    }
    return {
        "access_token": jwt.encode(claims, SECRET_KEY, algorithm="HS256"),
        "token_type": "bearer",
    }
