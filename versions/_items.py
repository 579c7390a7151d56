"""The items domain, shared by every version: one table, one store, the scopes that guard it.

Versions differ only in how they show an item (v1: ``name`` and a decimal ``price``; v2: ``title``
and a ``{amount, currency}`` price, tags, timestamps). They all read and write this one table, so an
item created through one version is visible through every other.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, status
from sqlalchemy import JSON, BigInteger, String, select
from sqlalchemy.orm import Mapped, mapped_column

from gateway import Base, DbSession, Principal, UTCDateTime, require_scopes

READ = "items:read"
WRITE = "items:write"
SCOPES = {READ: "Read items", WRITE: "Create, change and delete items"}
DEFAULT_CURRENCY = "USD"

# Ids are 64-bit in every database; a larger number is a 422, not a database overflow.
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ItemReader = Annotated[Principal, require_scopes(READ)]
ItemWriter = Annotated[Principal, require_scopes(WRITE)]


def _now() -> datetime:
    return datetime.now(UTC)


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Money in minor units: exact, and the same in SQLite and PostgreSQL.
    price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULT_CURRENCY)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    @property
    def price(self) -> Decimal:
        return Decimal(self.price_cents).scaleb(-2)


def to_cents(amount: Decimal) -> int:
    return int(amount.scaleb(2).to_integral_exact())


class ItemStore:
    """Item reads and writes; each write commits."""

    def __init__(self, session: DbSession) -> None:
        self.session = session

    async def page(self, limit: int, after_id: int = 0) -> tuple[Sequence[Item], int | None]:
        """Up to ``limit`` items with ids above ``after_id``, and the id to continue after."""
        query = select(Item).where(Item.id > after_id).order_by(Item.id).limit(limit + 1)
        rows = (await self.session.scalars(query)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, rows[-1].id if more else None

    async def slice(self, offset: int, limit: int) -> Sequence[Item]:
        query = select(Item).order_by(Item.id).offset(offset).limit(limit)
        return (await self.session.scalars(query)).all()

    async def get(self, item_id: int) -> Item:
        item = await self.session.get(Item, item_id)
        if item is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"Item {item_id} not found")
        return item

    async def create(
        self, name: str, price: Decimal, currency: str = DEFAULT_CURRENCY, tags: Sequence[str] = ()
    ) -> Item:
        item = Item(name=name, price_cents=to_cents(price), currency=currency, tags=list(tags))
        self.session.add(item)
        await self.session.commit()
        return item

    async def update(self, item_id: int, changes: dict[str, Any]) -> Item:
        item = await self.get(item_id)
        for field, value in changes.items():
            setattr(item, field, value)
        item.updated_at = _now()
        await self.session.commit()
        return item

    async def delete(self, item_id: int) -> None:
        item = await self.get(item_id)
        await self.session.delete(item)
        await self.session.commit()


Items = Annotated[ItemStore, Depends(ItemStore)]


def encode_cursor(after_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor continues after; a 400 that says so for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "after" or not value.isdigit():
            raise ValueError(cursor)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "Invalid cursor: pass the next_cursor value of a previous page unchanged",
        ) from None
