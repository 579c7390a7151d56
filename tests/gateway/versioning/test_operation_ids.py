"""operationIds: the route's name, short and the same in every version, since SDK generators
name their methods after them; a module may still choose its own, but not use one twice."""

# No ``from __future__ import annotations``: the models below are local to their tests, which
# FastAPI can only see if annotations are evaluated eagerly.

from decimal import Decimal

import httpx
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from gateway import Settings, VersionLoadError, create_app, create_version_app
from gateway.settings import VersionsSettings
from gateway.version_info import VersionInfo
from gateway.versioning.discovery import discover_versions
from gateway.versioning.docs import contract_document
from gateway.versioning.factory import repeated_operation_id

FACTORY = {("post", "/token"): "get_token", ("post", "/revoke"): "revoke_token"}
ITEMS = {
    ("get", "/users/me"): "read_me",
    ("get", "/items/"): "list_items",
    ("post", "/items/"): "create_item",
    ("get", "/items/{item_id}"): "read_item",
    ("delete", "/items/{item_id}"): "delete_item",
}


def operation_ids(document: dict[str, object]) -> dict[tuple[str, str], str]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {
        (method, path): operation["operationId"]
        for path, item in paths.items()
        for method, operation in item.items()
    }


@pytest.mark.anyio
async def test_shipped_versions_name_each_operation_once_and_alike(
    client: httpx.AsyncClient, versions: list[int]
) -> None:
    served = {
        number: operation_ids((await client.get(f"/apiv{number}/openapi.json")).json())
        for number in versions
    }
    assert served[1] == {**FACTORY, **ITEMS}
    assert served[2] == {**FACTORY, **ITEMS, ("patch", "/items/{item_id}"): "update_item"}
    seen: dict[tuple[str, str], str] = {}
    for ids in served.values():
        assert len(set(ids.values())) == len(ids)  # unique within the version
        for operation, operation_id in ids.items():
            assert seen.setdefault(operation, operation_id) == operation_id  # alike in all


def test_a_module_may_set_an_operation_id_or_its_own_naming() -> None:
    app = create_version_app(
        generate_unique_id_function=lambda route: f"items_{route.name}", users_me=False
    )

    @app.get("/items/")
    async def list_all() -> list[int]:
        return []

    @app.get("/items/{item_id}", operation_id="fetch_item")
    async def read_item(item_id: int) -> int:
        return item_id

    document = contract_document(app, VersionInfo(1, "test"))
    assert operation_ids(document) == {
        **FACTORY,
        ("get", "/items/"): "items_list_all",
        ("get", "/items/{item_id}"): "fetch_item",
    }


def test_a_repeated_operation_id_stops_startup_naming_the_module_and_both_routes() -> None:
    message = (
        "tests/fixtures/repeated_operation_id/v1.py: GET /items/{item_id} and "
        "GET /archive/{item_id} both have operationId 'read_item'; rename one route's function "
        "or give it operation_id=..."
    )
    versions = VersionsSettings(package="tests.fixtures.repeated_operation_id", entry_points=False)
    with pytest.raises(VersionLoadError) as raised:
        discover_versions(versions)
    assert str(raised.value) == message
    with pytest.raises(VersionLoadError) as raised:
        create_app(Settings(versions=versions))
    assert str(raised.value) == message


def test_one_route_with_several_methods_repeats_its_operation_id() -> None:
    app = create_version_app()

    @app.api_route("/items/", methods=["GET", "POST"])
    async def items() -> list[int]:
        return []

    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.name == "items")
    assert route.unique_id == "items"
    assert repeated_operation_id(app) == ("items", "GET /items/", "POST /items/")


# Schema titles: SDK generators name their classes by title.


class Money(BaseModel):
    amount: Decimal  # accepted as a number or a string, sent as a string: two schemas


def test_input_and_output_schemas_of_one_model_get_titles_of_their_own() -> None:
    app = create_version_app()

    @app.post("/prices/")
    async def create_price(body: Money) -> Money:
        return body

    schemas = contract_document(app, VersionInfo(1, "test"))["components"]["schemas"]
    assert schemas["Money-Input"]["title"] == "MoneyInput"
    assert schemas["Money-Output"]["title"] == "MoneyOutput"
    # Each still says what it describes: the response sends a string, the request takes either.
    assert schemas["Money-Output"]["properties"]["amount"]["type"] == "string"
    assert {"type": "number"} in schemas["Money-Input"]["properties"]["amount"]["anyOf"]
    assert schemas["ValidationError"]["title"] == "ValidationError"  # unique titles unchanged


def test_a_module_may_still_ask_for_one_schema_per_model() -> None:
    app = create_version_app(separate_input_output_schemas=False)

    @app.post("/prices/")
    async def create_price(body: Money) -> Money:
        return body

    schemas = contract_document(app, VersionInfo(1, "test"))["components"]["schemas"]
    assert schemas["Money"]["title"] == "Money"
    assert "Money-Input" not in schemas
