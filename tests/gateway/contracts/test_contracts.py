"""Breaking-change detection between two OpenAPI documents (``gateway.contracts``).

Most cases build two tiny FastAPI apps, so the documents are the ones FastAPI really writes
(``$ref``s, ``anyOf`` with null for Optional, separate input and output schemas); security and
reference edge cases use small hand-written documents.
"""

# No ``from __future__ import annotations`` here: the route functions below are annotated with
# classes local to each test, which FastAPI can only see if annotations are evaluated eagerly.

from enum import StrEnum
from typing import Any, Literal

import pytest
from fastapi import FastAPI, Header
from pydantic import BaseModel

from gateway.contracts.compare import Change, DocumentError, changelog, compare

Doc = dict[str, Any]


def document(source: FastAPI | Doc) -> Doc:
    return source.openapi() if isinstance(source, FastAPI) else source


def changes(old: FastAPI | Doc, new: FastAPI | Doc, **options: Any) -> tuple[list[str], list[str]]:
    """(breaking, non-breaking) changes from ``old`` to ``new``, as text."""
    found = compare(document(old), document(new), **options)
    return [str(c) for c in found if c.breaking], [str(c) for c in found if not c.breaking]


def returning(model: Any, **route: Any) -> FastAPI:
    """An app whose ``GET /items/{item_id}`` answers with ``model``."""
    app = FastAPI()

    @app.get("/items/{item_id}", response_model=model, **route)
    async def read_item(item_id: int) -> None: ...

    return app


def accepting(model: Any) -> FastAPI:
    """An app whose ``POST /items/`` takes ``model`` as its JSON body."""
    app = FastAPI()

    @app.post("/items/", status_code=201)
    async def create_item(body: model) -> None: ...

    return app


# Paths and operations.


def test_removed_path_is_breaking_and_a_new_one_is_not() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/")
    @new.get("/items/")
    async def list_items() -> None: ...

    @old.get("/users/me")
    @new.get("/tags/")
    async def other() -> None: ...

    assert changes(old, new) == (["/users/me: path removed"], ["/tags/: path added"])


def test_removed_operation_is_breaking_and_a_new_one_is_not() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/{item_id}")
    @new.get("/items/{item_id}")
    async def read(item_id: int) -> None: ...

    @old.delete("/items/{item_id}")
    @new.patch("/items/{item_id}")
    async def change(item_id: int) -> None: ...

    assert changes(old, new) == (
        ["DELETE /items/{item_id}: operation removed"],
        ["PATCH /items/{item_id}: operation added"],
    )


def test_changed_or_removed_operation_id_is_breaking_and_a_new_one_is_not() -> None:
    # SDK generators name their methods after operationIds: a new name renames the method.
    def listing(operation_id: str | None) -> Doc:
        operation: Doc = {"responses": {"200": {"description": "OK"}}}
        if operation_id is not None:
            operation["operationId"] = operation_id
        return {"openapi": "3.1.0", "paths": {"/items/": {"get": operation}}}

    assert changes(listing("list_items"), listing("get_items")) == (
        ["GET /items/: operationId changed from 'list_items' to 'get_items'"],
        [],
    )
    assert changes(listing("list_items"), listing(None)) == (
        ["GET /items/: operationId 'list_items' removed"],
        [],
    )
    assert changes(listing(None), listing("list_items")) == (
        [],
        ["GET /items/: operationId 'list_items' added"],
    )
    assert changes(listing("list_items"), listing("list_items")) == ([], [])


def test_identical_documents_have_no_changes() -> None:
    class Item(BaseModel):
        id: int
        tags: list[str]

    assert changes(returning(Item), returning(Item)) == ([], [])


# Response bodies: what clients read.


def test_removed_or_renamed_response_field_is_breaking_and_a_new_one_is_not() -> None:
    class Old(BaseModel):
        id: int
        name: str

    class New(BaseModel):
        id: int
        title: str
        tags: list[str]

    assert changes(returning(Old), returning(New)) == (
        ["GET /items/{item_id}: response 200 field 'name': removed"],
        [
            "GET /items/{item_id}: response 200 field 'title': added",
            "GET /items/{item_id}: response 200 field 'tags': added",
        ],
    )


def test_nested_response_field_type_change_is_named_by_its_path() -> None:
    class OldPrice(BaseModel):
        amount: str

    class NewPrice(BaseModel):
        amount: float

    class Old(BaseModel):
        price: OldPrice

    class New(BaseModel):
        price: NewPrice

    breaking, _ = changes(returning(Old), returning(New))
    assert breaking == [
        "GET /items/{item_id}: response 200 field 'price.amount': "
        "type changed from string to number"
    ]


def test_fields_of_array_items_and_optional_objects_are_followed() -> None:
    class OldItem(BaseModel):
        id: int
        name: str

    class NewItem(BaseModel):
        id: int

    class OldPage(BaseModel):
        data: list[OldItem]
        first: OldItem | None

    class NewPage(BaseModel):
        data: list[NewItem]
        first: NewItem | None

    breaking, _ = changes(returning(OldPage), returning(NewPage))
    assert breaking == [
        "GET /items/{item_id}: response 200 field 'data[].name': removed",
        "GET /items/{item_id}: response 200 field 'first.name': removed",
    ]
    breaking, _ = changes(returning(list[OldItem]), returning(list[NewItem]))
    assert breaking == ["GET /items/{item_id}: response 200 field '[].name': removed"]


def test_optional_response_field_is_breaking_but_the_reverse_is_not() -> None:
    class Required(BaseModel):
        name: str

    class Optional(BaseModel):
        name: str | None

    field = "GET /items/{item_id}: response 200 field 'name'"
    assert changes(returning(Required), returning(Optional)) == (
        [f"{field}: type changed from string to string | null"],
        [],
    )
    assert changes(returning(Optional), returning(Required)) == (
        [],
        [f"{field}: type changed from string | null to string"],
    )


def test_response_field_changed_type_is_breaking() -> None:
    class Old(BaseModel):
        id: int

    class New(BaseModel):
        id: str

    breaking, _ = changes(returning(Old), returning(New))
    assert breaking == [
        "GET /items/{item_id}: response 200 field 'id': type changed from integer to string"
    ]


def test_response_enum_value_removed_is_breaking_and_added_is_not() -> None:
    class Old(BaseModel):
        state: Literal["open", "closed"]

    class New(BaseModel):
        state: Literal["open", "archived"]

    assert changes(returning(Old), returning(New)) == (
        ["GET /items/{item_id}: response 200 field 'state': enum values removed: 'closed'"],
        ["GET /items/{item_id}: response 200 field 'state': enum values added: 'archived'"],
    )


def test_new_response_status_code_is_not_breaking_and_a_removed_success_is() -> None:
    class Item(BaseModel):
        id: int

    plain = returning(Item)
    documented = returning(Item, responses={404: {"description": "No such item"}})
    assert changes(plain, documented) == ([], ["GET /items/{item_id}: response 404 added"])
    assert changes(documented, plain) == ([], ["GET /items/{item_id}: response 404 removed"])
    created = returning(Item, status_code=201)
    breaking, _ = changes(plain, created)
    assert breaking == ["GET /items/{item_id}: response 200 removed"]


# Request bodies and parameters: what clients send.


def test_new_required_request_field_is_breaking_and_a_new_optional_one_is_not() -> None:
    class Old(BaseModel):
        name: str

    class New(BaseModel):
        name: str
        price: float
        tags: list[str] = []

    assert changes(accepting(Old), accepting(New)) == (
        ["POST /items/: request body field 'price': added (required)"],
        ["POST /items/: request body field 'tags': added"],
    )


def test_optional_request_field_becoming_required_is_breaking_and_the_reverse_is_not() -> None:
    class Optional(BaseModel):
        note: str = ""

    class Required(BaseModel):
        note: str

    assert changes(accepting(Optional), accepting(Required)) == (
        ["POST /items/: request body field 'note': now required"],
        [],
    )
    assert changes(accepting(Required), accepting(Optional)) == (
        [],
        ["POST /items/: request body field 'note': now optional"],
    )


def test_request_field_type_change_is_breaking_but_accepting_null_is_not() -> None:
    class Text(BaseModel):
        name: str

    class Number(BaseModel):
        name: int

    class Nullable(BaseModel):
        name: str | None

    assert changes(accepting(Text), accepting(Number)) == (
        ["POST /items/: request body field 'name': type changed from string to integer"],
        [],
    )
    assert changes(accepting(Text), accepting(Nullable)) == (
        [],
        ["POST /items/: request body field 'name': type changed from string to string | null"],
    )
    assert changes(accepting(Nullable), accepting(Text))[0] == [
        "POST /items/: request body field 'name': type changed from string | null to string"
    ]


def test_request_enum_value_removed_is_breaking_and_added_is_not() -> None:
    class OldColour(StrEnum):
        red = "red"
        blue = "blue"

    class NewColour(StrEnum):
        red = "red"
        green = "green"

    class Old(BaseModel):
        colour: OldColour

    class New(BaseModel):
        colour: NewColour

    assert changes(accepting(Old), accepting(New)) == (
        ["POST /items/: request body field 'colour': enum values removed: 'blue'"],
        ["POST /items/: request body field 'colour': enum values added: 'green'"],
    )


def test_removed_request_field_breaks_only_where_unknown_fields_are_refused() -> None:
    class Old(BaseModel):
        name: str
        note: str = ""

    class Lenient(BaseModel):
        name: str

    class Strict(BaseModel, extra="forbid"):
        name: str

    removed = "POST /items/: request body field 'note': removed"
    assert changes(accepting(Old), accepting(Lenient)) == ([], [removed])
    assert changes(accepting(Old), accepting(Strict)) == ([removed], [])


def test_new_required_parameter_is_breaking_and_a_new_optional_one_is_not() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/", operation_id="list_items")
    async def before(limit: int = 10) -> None: ...

    @new.get("/items/", operation_id="list_items")
    async def after(
        owner: str,
        x_tenant: str = Header(),
        limit: int = 10,
        cursor: str | None = None,
    ) -> None: ...

    assert changes(old, new) == (
        [
            "GET /items/: query parameter 'owner': added (required)",
            "GET /items/: header parameter 'x-tenant': added (required)",
        ],
        ["GET /items/: query parameter 'cursor': added"],
    )


def test_optional_parameter_becoming_required_is_breaking() -> None:
    old, new = FastAPI(), FastAPI()

    @old.get("/items/", operation_id="list_items")
    async def before(limit: int = 10) -> None: ...

    @new.get("/items/", operation_id="list_items")
    async def after(limit: int) -> None: ...

    assert changes(old, new)[0] == ["GET /items/: query parameter 'limit': now required"]
    assert changes(new, old) == ([], ["GET /items/: query parameter 'limit': now optional"])


def test_parameter_type_change_is_breaking_but_widening_is_not() -> None:
    apps = {}
    for annotation in (int, str, float):
        app = FastAPI()

        @app.get("/items/{item_id}")
        async def read(item_id: annotation) -> None: ...  # type: ignore[valid-type]

        apps[annotation] = app

    assert changes(apps[int], apps[str]) == (
        ["GET /items/{item_id}: path parameter 'item_id': type changed from integer to string"],
        [],
    )
    assert changes(apps[int], apps[float]) == (
        [],
        ["GET /items/{item_id}: path parameter 'item_id': type changed from integer to number"],
    )


# Security.


def secured(security: list[dict[str, list[str]]] | None) -> Doc:
    operation: Doc = {"responses": {"200": {"description": "OK"}}}
    if security is not None:
        operation["security"] = security
    return {"openapi": "3.1.0", "paths": {"/items/": {"get": operation}}}


def test_security_with_another_scheme_or_more_scopes_is_breaking() -> None:
    read = secured([{"oauth2": ["items:read"]}])
    assert changes(read, secured([{"apikey": []}])) == (
        ["GET /items/: security changed from oauth2 [items:read] to apikey"],
        [],
    )
    assert changes(read, secured([{"oauth2": ["items:read", "items:write"]}])) == (
        [
            "GET /items/: security changed from oauth2 [items:read] "
            "to oauth2 [items:read items:write]"
        ],
        [],
    )
    assert changes(secured(None), read)[0] == [
        "GET /items/: security changed from none to oauth2 [items:read]"
    ]


def test_fewer_scopes_or_no_security_is_not_breaking() -> None:
    read = secured([{"oauth2": ["items:read"]}])
    assert changes(read, secured([{"oauth2": []}])) == (
        [],
        ["GET /items/: security changed from oauth2 [items:read] to oauth2"],
    )
    assert changes(read, secured(None)) == (
        [],
        ["GET /items/: security changed from oauth2 [items:read] to none"],
    )
    # Another way in, next to the old one, is not stricter either.
    assert changes(read, secured([{"oauth2": ["items:read"]}, {"apikey": []}]))[0] == []


def test_document_level_security_applies_to_operations_without_their_own() -> None:
    inherited = {**secured(None), "security": [{"oauth2": ["items:read"]}]}
    assert changes(inherited, secured([{"oauth2": ["items:read"]}])) == ([], [])
    assert changes(secured(None), inherited)[0] != []


def test_scheme_aliases_make_a_renamed_scheme_the_same_scheme() -> None:
    old = secured([{"apiv1_oauth2": ["items:read"]}])
    new = secured([{"apiv2_oauth2": ["items:read"]}])
    assert changes(old, new)[0] != []
    assert changes(old, new, scheme_aliases={"apiv1_oauth2": "apiv2_oauth2"}) == ([], [])
    more = secured([{"apiv2_oauth2": ["items:read", "items:write"]}])
    assert changes(old, more, scheme_aliases={"apiv1_oauth2": "apiv2_oauth2"})[0] == [
        "GET /items/: security changed from apiv2_oauth2 [items:read] "
        "to apiv2_oauth2 [items:read items:write]"
    ]


# References.


def test_schemas_are_compared_by_content_not_by_name() -> None:
    class Item(BaseModel):
        id: int

    class Article(BaseModel):
        id: int

    assert changes(returning(Item), returning(Article)) == ([], [])


def test_recursive_schemas_are_compared_once_per_path() -> None:
    class Node(BaseModel):
        name: str
        children: list["Node"] = []

    class Tree(BaseModel):
        title: str
        children: list["Tree"] = []

    breaking, additive = changes(returning(Node), returning(Tree))
    assert breaking == ["GET /items/{item_id}: response 200 field 'name': removed"]
    assert additive == ["GET /items/{item_id}: response 200 field 'title': added"]


def test_a_reference_outside_the_document_is_an_error() -> None:
    old = returning(BaseModel).openapi()
    old["paths"]["/items/{item_id}"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] = {"$ref": "other.json#/Item"}
    with pytest.raises(DocumentError, match="only references within the document"):
        compare(old, old)


# The changelog.


def test_changelog_lists_breaking_and_non_breaking_changes_in_markdown() -> None:
    found = [
        Change("/users/me", "path removed", True),
        Change("GET /items/", "query parameter 'cursor': added", False),
    ]
    assert changelog("Changes from v1 to v2", found) == (
        "# Changes from v1 to v2\n\n"
        "## Breaking changes\n\n"
        "- `/users/me`: path removed\n\n"
        "## Non-breaking changes\n\n"
        "- `GET /items/`: query parameter 'cursor': added\n"
    )
    assert changelog("No change", []).count("None.") == 2
