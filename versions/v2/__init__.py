"""Version 2: items with a title, a ``{amount, currency}`` price, tags and a creation time;
cursor pagination and partial updates, guarded by the ``items:read`` and ``items:write`` scopes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, status

from gateway import create_version_app
from versions._items import (
    SCOPES,
    ItemId,
    ItemReader,
    Items,
    ItemWriter,
    decode_cursor,
    encode_cursor,
    to_cents,
)

from .schemas import ItemCreate, ItemOut, ItemPage, ItemPatch

app = create_version_app(
    title="Items API",
    description="Items with a title, a priced currency and tags, paged by cursor.",
    scopes=SCOPES,
)


@app.get("/items/", tags=["items"])
async def list_items(
    _: ItemReader,
    items: Items,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ItemPage:
    """One page of items, oldest first; follow ``next_cursor`` until it is null."""
    rows, last_id = await items.page(limit, decode_cursor(cursor) if cursor else 0)
    return ItemPage(
        data=[ItemOut.of(row) for row in rows],
        next_cursor=encode_cursor(last_id) if last_id is not None else None,
    )


@app.post("/items/", status_code=status.HTTP_201_CREATED, tags=["items"])
async def create_item(body: ItemCreate, _: ItemWriter, items: Items) -> ItemOut:
    item = await items.create(body.title, body.price.amount, body.price.currency, body.tags)
    return ItemOut.of(item)


@app.get("/items/{item_id}", tags=["items"])
async def read_item(item_id: ItemId, _: ItemReader, items: Items) -> ItemOut:
    return ItemOut.of(await items.get(item_id))


@app.patch("/items/{item_id}", tags=["items"])
async def update_item(item_id: ItemId, body: ItemPatch, _: ItemWriter, items: Items) -> ItemOut:
    """Change only the fields sent."""
    changes: dict[str, Any] = {}
    if "title" in body.model_fields_set:
        changes["name"] = body.title
    if "price" in body.model_fields_set:
        changes["price_cents"] = to_cents(body.price.amount)
        changes["currency"] = body.price.currency
    if "tags" in body.model_fields_set:
        changes["tags"] = body.tags
    return ItemOut.of(await items.update(item_id, changes))


@app.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["items"])
async def delete_item(item_id: ItemId, _: ItemWriter, items: Items) -> None:
    await items.delete(item_id)
