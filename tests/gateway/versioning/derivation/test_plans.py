"""Per-operation plans: only the branches that lead to a declaration, and what each operation
must read, hold and rewrite."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from gateway.errors import DerivationError
from gateway.versioning.derivation.declarations import endpoint, schema
from gateway.versioning.derivation.plans import ArrayPlan, ObjectPlan, operation_plans
from tests.gateway.versioning.derivation.successor import successor_document


def by_operation(*changes: Any, own: Any = ()) -> dict[tuple[str, str], Any]:
    return {
        (p.old_method, p.old_path): p
        for p in operation_plans(successor_document(), changes, own=own)
    }


def test_an_operation_no_declaration_reaches_reads_and_holds_nothing() -> None:
    plans = by_operation(schema("Note").field("text").renamed("body"))
    delete = plans[("DELETE", "/things/{thing_id}")]
    assert not delete.reads_body
    assert not any(delete.holds(status) for status in (200, 204, 404, 422))
    note = plans[("PUT", "/notes/{note_id}")]
    assert note.reads_body
    assert note.holds(200)
    assert note.holds(422)


def test_a_page_plan_holds_only_the_path_to_the_declared_schema() -> None:
    plans = by_operation(schema("Tag").field("label").renamed("name"))
    page = plans[("GET", "/things/")].responses[200]
    assert isinstance(page, ObjectPlan)
    assert not page.declared
    assert set(page.children) == {"data"}
    things = page.children["data"]
    assert isinstance(things, ArrayPlan)
    assert isinstance(things.items, ObjectPlan)
    assert set(things.items.children) == {"tags"}


def test_removed_moved_shadowed_and_remapped_operations() -> None:
    plans = by_operation(
        endpoint("DELETE", "/things/{thing_id}").removed(),
        endpoint("GET", "/things/{thing_id}").moved(path="/thing/{thing_id}"),
        endpoint("POST", "/things/").status(old=200, new=201),
        own=[("PUT", "/prices/")],
    )
    assert ("DELETE", "/things/{thing_id}") not in plans
    assert ("PUT", "/prices/") not in plans
    moved = plans[("GET", "/thing/{thing_id}")]
    assert moved.moved
    assert moved.path == "/things/{thing_id}"
    assert plans[("POST", "/things/")].statuses == {201: 200}


class Tree(BaseModel):
    label: str
    children: list[Tree]


def test_a_recursive_schema_compiles_to_a_recursive_plan() -> None:
    app = FastAPI()

    @app.get("/tree")
    async def tree() -> Tree:
        raise NotImplementedError

    (plan,) = operation_plans(app.openapi(), [schema("Tree").field("label").renamed("name")])
    root = plan.responses[200]
    assert isinstance(root, ObjectPlan)
    children = root.children["children"]
    assert isinstance(children, ArrayPlan)
    assert children.items is root


def test_a_declaration_on_a_body_that_is_not_json_stops_startup() -> None:
    document = successor_document()
    response = document["paths"]["/things/{thing_id}"]["get"]["responses"]["200"]
    response["content"] = {"application/x-ndjson": response["content"]["application/json"]}
    with pytest.raises(DerivationError) as raised:
        operation_plans(document, [schema("Tag").field("label").renamed("name")], source="v1.py")
    assert str(raised.value) == (
        'v1.py: schema("Tag").field("label").renamed("name"): GET /things/{thing_id} streams '
        "its response; no declaration can apply to it"
    )
