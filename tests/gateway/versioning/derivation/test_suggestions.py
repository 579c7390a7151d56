"""Suggestions: a derived version's changes against its snapshot, and the declarations, in the
successor's names, that restore it; applied, they leave no change at all."""

# No ``from __future__ import annotations``: FastAPI must see the test-local models eagerly.

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import FastAPI, status
from pydantic import BaseModel, ConfigDict

from gateway.contracts.compare import compare
from gateway.versioning.derivation.declarations import Declaration, schema
from gateway.versioning.derivation.document import derive_document
from gateway.versioning.derivation.stubs import Stub
from gateway.versioning.derivation.suggestions import Suggested, declarations_of, suggest

Doc = dict[str, Any]


def suggested(
    snapshot: Doc, successor: Doc, declared: Sequence[Declaration] = ()
) -> list[Suggested]:
    derived = derive_document(successor, declared)
    return suggest(
        compare(snapshot, derived),
        snapshot=snapshot,
        successor=successor,
        declared=declared,
        version_name="v2",
        successor_name="v3",
    )


def texts(found: list[Suggested]) -> list[str]:
    return [declaration.text for declaration in declarations_of(found)]


def restored(snapshot: Doc, successor: Doc, declared: Sequence[Declaration] = ()) -> list[str]:
    """What still differs once the suggested declarations are added."""
    changes = [*declared, *declarations_of(suggested(snapshot, successor, declared))]
    return [str(change) for change in compare(snapshot, derive_document(successor, changes))]


class TitledOut(BaseModel):
    id: int
    title: str
    created_at: datetime


class LabelledOut(BaseModel):
    id: int
    label: str
    created_at: datetime


def reading(model: type[BaseModel], name: str = "ItemOut") -> Doc:
    app = FastAPI()
    named = type(name, (model,), {})

    @app.get("/items/{item_id}", response_model=named)
    async def read_item(item_id: int) -> None: ...

    return app.openapi()


def test_a_field_gone_and_one_of_the_same_type_new_is_a_rename_with_the_alternative() -> None:
    snapshot, successor = reading(TitledOut), reading(LabelledOut)
    found = suggested(snapshot, successor)
    assert texts(found) == ['schema("ItemOut").field("label").renamed("title")']
    restoration = found[0].restoration
    assert restoration.condition == "if label is new and title is gone"
    assert [d.text for d in restoration.alternative] == [
        'schema("ItemOut").field("label").removed()',
        'schema("ItemOut").field("title").added(schema={"type": "string"}, fill=fill_title, '
        "required=True)",
    ]
    assert restoration.problem is None
    assert restoration.stubs == ()
    assert restored(snapshot, successor) == []


class Plain(BaseModel):
    id: int
    title: str


class Widened(BaseModel):
    id: int
    title: str
    tags: list[str]
    rank: float


class Narrowed(BaseModel):
    id: int


def test_without_a_match_a_new_field_is_removed_and_a_gone_one_added_with_its_type() -> None:
    added = suggested(reading(Plain), reading(Widened))
    assert texts(added) == [
        'schema("ItemOut").field("tags").removed()',
        'schema("ItemOut").field("rank").removed()',
    ]
    assert restored(reading(Plain), reading(Widened)) == []

    gone = suggested(reading(Plain), reading(Narrowed))
    assert texts(gone) == [
        'schema("ItemOut").field("title").added(schema={"type": "string"}, fill=fill_title, '
        "required=True)"
    ]
    (entry,) = gone
    assert entry.restoration.problem == "ItemOut.title: v3 has no such field; write fill_title"
    (stub,) = entry.restoration.stubs
    assert isinstance(stub, Stub)
    assert stub.__name__ == "fill_title"
    assert restored(reading(Plain), reading(Narrowed)) == []


class TwoStrings(BaseModel):
    id: int
    first: str
    second: str


class TwoOtherStrings(BaseModel):
    id: int
    one: str
    two: str


def test_two_candidates_of_one_type_are_no_rename() -> None:
    found = texts(suggested(reading(TwoStrings), reading(TwoOtherStrings)))
    assert 'schema("ItemOut").field("one").removed()' in found
    assert not any(".renamed(" in text for text in found)


class DatedOut(BaseModel):
    id: int
    title: str
    label: str
    created_at: datetime


def test_a_date_time_is_no_match_for_a_plain_string() -> None:
    class Old(BaseModel):
        id: int
        name: str
        label: str

    found = texts(suggested(reading(Old), reading(DatedOut)))
    assert 'schema("ItemOut").field("title").renamed("name")' in found
    assert 'schema("ItemOut").field("created_at").removed()' in found


class OldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str


class NewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    owner: int


def creating(model: type[BaseModel]) -> Doc:
    app = FastAPI()
    named = type("ItemCreate", (model,), {})

    @app.post("/items/", status_code=201)
    async def create_item(body: named) -> None: ...

    return app.openapi()


def test_a_field_the_successor_requires_in_requests_comes_from_a_stub() -> None:
    found = suggested(creating(OldCreate), creating(NewCreate))
    assert texts(found) == [
        'schema("ItemCreate").field("owner").removed(from_request=owner_from_request)'
    ]
    assert found[0].restoration.problem == (
        "ItemCreate.owner: v3 requires it in requests; write owner_from_request"
    )


def test_names_lead_back_through_the_declared_renames() -> None:
    declared: list[Declaration] = [schema("ItemCreate").renamed("ItemIn")]
    snapshot = derive_document(creating(OldCreate), declared)
    found = suggested(snapshot, creating(NewCreate), declared)
    assert texts(found) == [
        'schema("ItemCreate").field("owner").removed(from_request=owner_from_request)'
    ]


def test_a_component_the_snapshot_names_otherwise_is_renamed_back() -> None:
    snapshot = derive_document(creating(OldCreate), [schema("ItemCreate").renamed("ItemIn")])
    found = texts(suggested(snapshot, creating(NewCreate)))
    assert found[0] == 'schema("ItemCreate").renamed("ItemIn")'


def operations(*, patch: bool = False, moved: bool = False, named: str = "read_item") -> Doc:
    app = FastAPI()

    @app.get("/things/{item_id}" if moved else "/items/{item_id}", operation_id=named)
    async def read_item(item_id: int) -> None: ...

    @app.post("/items/", status_code=status.HTTP_201_CREATED, operation_id="create_item")
    async def create_item() -> None: ...

    if patch:

        @app.patch("/items/{item_id}", operation_id="update_item")
        async def update_item(item_id: int) -> None: ...

    return app.openapi()


def test_an_operation_the_snapshot_lacks_is_removed() -> None:
    assert texts(suggested(operations(), operations(patch=True))) == [
        'endpoint("PATCH", "/items/{item_id}").removed()'
    ]


def test_an_operation_served_elsewhere_under_the_same_operation_id_moved_back() -> None:
    assert texts(suggested(operations(), operations(moved=True))) == [
        'endpoint("GET", "/things/{item_id}").moved(path="/items/{item_id}")'
    ]
    assert restored(operations(), operations(moved=True)) == []


def test_an_operation_id_changed_is_named_back() -> None:
    assert texts(suggested(operations(), operations(named="get_item"))) == [
        'endpoint("GET", "/items/{item_id}").named("read_item")'
    ]


def test_a_success_status_changed_is_mapped() -> None:
    old = operations()
    old["paths"]["/items/"]["post"]["responses"] = {
        "200": old["paths"]["/items/"]["post"]["responses"]["201"]
    }
    assert texts(suggested(old, operations())) == [
        'endpoint("POST", "/items/").status(old=200, new=201)'
    ]
    assert restored(old, operations()) == []


def test_an_operation_the_successor_lacks_and_parameters_are_problems() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/", operation_id="list_items")
    async def list_items(skip: int = 0, limit: int = 10) -> None: ...

    @old.delete("/items/{item_id}")
    async def delete_item(item_id: int) -> None: ...

    @new.get("/items/", operation_id="list_items")
    async def list_items_by_cursor(cursor: str = "", limit: int = 10) -> None: ...

    found = suggested(old.openapi(), new.openapi())
    assert texts(found) == []
    assert [(str(entry.change), entry.restoration.problem) for entry in found] == [
        ("GET /items/: query parameter 'skip': removed", PARAMETERS),
        ("GET /items/: query parameter 'cursor': added", PARAMETERS),
        (
            "/items/{item_id}: path removed",
            "DELETE /items/{item_id}: v3 has no such operation; keep a route of your own for it",
        ),
    ]


PARAMETERS = (
    "GET /items/: query parameter skip has no equivalent in v3; v3 adds query parameter cursor; "
    "keep a route of your own"
)


class Priced(BaseModel):
    id: int
    price: float


class Money(BaseModel):
    amount: str


class PricedNew(BaseModel):
    id: int
    price: Money


def test_another_type_is_changed_with_the_snapshots_schema_and_two_stubs() -> None:
    found = suggested(reading(Priced), reading(PricedNew))
    assert texts(found) == [
        'schema("ItemOut").field("price").changed(old_schema={"type": "number"}, '
        "forward=price_forward, back=price_back)"
    ]
    restoration = found[0].restoration
    assert restoration.problem == (
        "ItemOut.price: number in v2, object in v3; write price_forward and price_back"
    )
    assert [stub.__name__ for stub in restoration.stubs] == ["price_forward", "price_back"]
    assert restored(reading(Priced), reading(PricedNew)) == []
