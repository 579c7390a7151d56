"""Each change's ``detail``: the same change as data, naming the component that holds a field in
both documents, for the tools that suggest what restores it."""

# No ``from __future__ import annotations``: FastAPI must see the test-local models eagerly.

from datetime import datetime
from typing import Any

from fastapi import FastAPI, status
from pydantic import BaseModel

from gateway.contracts.compare import Change, Detail, compare


def details(old: FastAPI, new: FastAPI) -> dict[str, Detail | None]:
    return {str(change): change.detail for change in compare(old.openapi(), new.openapi())}


class OldOut(BaseModel):
    id: int
    name: str
    price: float
    created: datetime


class NewOut(BaseModel):
    id: int
    title: str
    price: dict[str, Any]
    created: datetime


class Page(BaseModel):
    data: list[NewOut]


def test_fields_removed_added_and_retyped_name_the_components_on_both_sides() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/{item_id}", response_model=OldOut)
    @new.get("/items/{item_id}", response_model=NewOut)
    async def read_item(item_id: int) -> None: ...

    found = details(old, new)
    assert found["GET /items/{item_id}: response 200 field 'name': removed"] == Detail(
        "field removed",
        "GET",
        "/items/{item_id}",
        "response",
        schema="NewOut",
        old_schema="OldOut",
        field="name",
        old_types=("string",),
    )
    assert found["GET /items/{item_id}: response 200 field 'title': added"] == Detail(
        "field added",
        "GET",
        "/items/{item_id}",
        "response",
        schema="NewOut",
        old_schema="OldOut",
        field="title",
        new_types=("string",),
    )
    retyped = found[
        "GET /items/{item_id}: response 200 field 'price': type changed from number to object"
    ]
    assert retyped is not None
    assert (retyped.kind, retyped.schema, retyped.field) == ("type changed", "NewOut", "price")
    assert (retyped.old_types, retyped.new_types) == (("number",), ("object",))


def test_a_field_inside_a_page_names_its_own_component_not_the_page() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/", response_model=list[OldOut])
    @new.get("/items/", response_model=Page)
    async def list_items() -> None: ...

    @old.get("/pages/", response_model=Page)
    @new.get("/pages/", response_model=Page)
    async def pages() -> None: ...

    found = compare(old.openapi(), new.openapi())
    whole = next(c for c in found if c.where == "GET /items/")
    assert whole.detail is not None
    assert (whole.detail.kind, whole.detail.schema, whole.detail.field) == (
        "type changed",
        None,
        None,
    )
    assert [c for c in found if c.where == "GET /pages/"] == []


class Nested(BaseModel):
    tags: list[int]


class NestedNew(BaseModel):
    tags: list[str]


def test_a_change_inside_an_array_field_is_held_by_that_field() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/n", response_model=Nested)
    @new.get("/n", response_model=NestedNew)
    async def nested() -> None: ...

    (change,) = compare(old.openapi(), new.openapi())
    assert change.what == "response 200 field 'tags[]': type changed from integer to string"
    assert change.detail is not None
    assert (change.detail.schema, change.detail.field) == ("NestedNew", "tags")


def test_operations_operation_ids_statuses_and_parameters() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/", operation_id="list_items")
    @new.get("/items/", operation_id="all_items")
    async def listing(skip: int = 0) -> None: ...

    @old.post("/items/", status_code=status.HTTP_200_OK)
    @new.post("/items/", status_code=status.HTTP_201_CREATED)
    async def create() -> None: ...

    @old.delete("/items/{item_id}")
    @new.get("/tags/")
    async def other(item_id: int = 0) -> None: ...

    found = details(old, new)
    assert found["GET /items/: operationId changed from 'list_items' to 'all_items'"] == Detail(
        "operationId changed",
        "GET",
        "/items/",
        old_operation_id="list_items",
        new_operation_id="all_items",
    )
    assert found["POST /items/: response 200 removed"] == Detail(
        "response removed", "POST", "/items/", status="200"
    )
    assert found["POST /items/: response 201 added"] == Detail(
        "response added", "POST", "/items/", status="201"
    )
    assert found["/items/{item_id}: path removed"] == Detail(
        "path removed", path="/items/{item_id}"
    )
    assert found["/tags/: path added"] == Detail("path added", path="/tags/")


def test_parameters_name_their_place() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/")
    async def old_list(skip: int = 0) -> None: ...

    @new.get("/items/")
    async def new_list(cursor: str | None = None) -> None: ...

    found = details(old, new)
    assert found["GET /items/: query parameter 'skip': removed"] == Detail(
        "parameter removed", "GET", "/items/", "request", parameter=("query", "skip")
    )
    assert found["GET /items/: query parameter 'cursor': added"] == Detail(
        "parameter added", "GET", "/items/", "request", parameter=("query", "cursor")
    )


def test_the_detail_takes_no_part_in_equality_nor_in_the_text() -> None:
    detailed = Change("GET /x", "operation removed", True, Detail("operation removed", "GET", "/x"))
    assert detailed == Change("GET /x", "operation removed", True)
    assert hash(detailed) == hash(Change("GET /x", "operation removed", True))
    assert str(detailed) == "GET /x: operation removed"
