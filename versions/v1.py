"""Version 1: items as ``{id, name, price}`` with a decimal price; list, create, read, delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field, PlainSerializer

from gateway import derive_version, endpoint, schema
from versions._items import ItemReader, Items

# A JSON number, not pydantic's default string, as version 1 clients expect.
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2, examples=[9.99]),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class ItemOut(BaseModel):  # for the route of its own; the gateway checks it is the derived one
    id: int
    name: str
    price: Price


def price_forward(price: Any) -> Any:
    return {"amount": price}  # every value, valid or not: v2 checks it as amount


def price_back(price: Any) -> float:
    return float(price["amount"])


app = derive_version(
    description="Items with a name and a price. Superseded by the next version.",
    changes=[
        schema("ItemCreate").renamed("ItemIn"),
        schema("ItemCreate").field("title").renamed("name"),
        schema("ItemCreate").field("tags").removed(),
        schema("ItemCreate").field("price").changed(Price, forward=price_forward, back=price_back),
        schema("ItemOut").field("title").renamed("name"),
        schema("ItemOut").field("tags").removed(),
        schema("ItemOut").field("created_at").removed(),
        schema("ItemOut").field("price").changed(Price, forward=price_forward, back=price_back),
        endpoint("PATCH", "/items/{item_id}").removed(),
    ],
)


@app.get("/items/", tags=["items"])  # skip/limit has no equivalent in v2's cursor pages
async def list_items(
    _: ItemReader,
    items: Items,
    skip: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ItemOut]:
    return [ItemOut(id=i.id, name=i.name, price=i.price) for i in await items.slice(skip, limit)]
