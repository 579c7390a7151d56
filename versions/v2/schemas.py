"""Version 2's shapes of an item: a title, a price with its currency, tags and timestamps."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from versions._items import DEFAULT_CURRENCY, Item

Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, examples=["9.99"])]
    currency: Currency = Field(default=DEFAULT_CURRENCY, description="ISO 4217 code")


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    price: Price
    tags: Annotated[list[Tag], Field(max_length=20)] = []


class ItemPatch(BaseModel):
    """Only the fields sent are changed; none of them may be null."""

    model_config = ConfigDict(extra="forbid")

    title: Title = None  # type: ignore[assignment]
    price: Price = None  # type: ignore[assignment]
    tags: Annotated[list[Tag], Field(max_length=20)] = None  # type: ignore[assignment]


class ItemOut(BaseModel):
    id: int
    title: str
    price: Price
    tags: list[str]
    created_at: datetime

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(
            id=item.id,
            title=item.name,
            price=Price(amount=item.price, currency=item.currency),
            tags=item.tags,
            created_at=item.created_at,
        )


class ItemPage(BaseModel):
    data: list[ItemOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end"
    )
