"""Version 1: items as ``{id, name, price}`` with a decimal price; list, create, read, delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Query, status
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from gateway import create_version_app
from versions._items import SCOPES, Item, ItemId, ItemReader, Items, ItemWriter

app = create_version_app(
    title="Items API",
    description="Items with a name and a price. Superseded by the next version.",
    scopes=SCOPES,
)

# A JSON number, not pydantic's default string, as version 1 clients expect.
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2, examples=[9.99]),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    price: Price


class ItemOut(BaseModel):
    id: int
    name: str
    price: Price

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(id=item.id, name=item.name, price=item.price)


@app.get("/items/", tags=["items"])
async def list_items(
    _: ItemReader,
    items: Items,
    skip: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ItemOut]:
    return [ItemOut.of(item) for item in await items.slice(skip, limit)]


@app.post("/items/", status_code=status.HTTP_201_CREATED, tags=["items"])
async def create_item(body: ItemIn, _: ItemWriter, items: Items) -> ItemOut:
    return ItemOut.of(await items.create(body.name, body.price))


@app.get("/items/{item_id}", tags=["items"])
async def read_item(item_id: ItemId, _: ItemReader, items: Items) -> ItemOut:
    return ItemOut.of(await items.get(item_id))


@app.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["items"])
async def delete_item(item_id: ItemId, _: ItemWriter, items: Items) -> None:
    await items.delete(item_id)
