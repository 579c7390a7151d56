"""Each declaration's effect on the document, compared where it can be with the document of a
hand-written model of the old version, which is what a derived version must read as."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from gateway.contracts.compare import compare
from gateway.versioning.derivation.declarations import Declaration, endpoint, schema, unchanged
from gateway.versioning.derivation.document import derive_document
from tests.gateway.versioning.derivation.old_models import old_notes_app, old_things_app
from tests.gateway.versioning.derivation.successor import successor_document


def same(value: Any) -> Any:
    return value


def derive(*changes: Declaration) -> dict[str, Any]:
    return derive_document(successor_document(), list(changes))


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"]
    return result


def response_ref(document: dict[str, Any], method: str, path: str, status: str = "200") -> str:
    content = document["paths"][path][method]["responses"][status]["content"]
    ref: str = content["application/json"]["schema"]["$ref"]
    return ref


def test_renames_and_removals_flat_nested_in_arrays_and_in_pages_read_as_old_models() -> None:
    old = old_things_app()
    derived = derive(
        schema("Thing").field("title").renamed("name"),
        schema("Owner").field("email").removed(),
        schema("Tag").field("label").renamed("name"),
    )
    expected = schemas(old.openapi())
    for name in ("Owner", "Tag", "Thing", "ThingPage"):
        assert schemas(derived)[name] == expected[name]
    assert list(schemas(derived)["Thing"]["properties"]) == ["id", "name", "owner", "tags"]
    listing = {"get": derived["paths"]["/things/"]["get"]}
    reduced = {"paths": {"/things/": listing}, "components": derived["components"]}
    assert compare(old.openapi(), reduced) == []


def test_a_field_of_another_type_takes_each_sides_form_and_splits_a_shared_model() -> None:
    old = old_notes_app()
    derived = derive(schema("Note").field("text").changed(Decimal, forward=same, back=same))
    expected = schemas(old.openapi())
    assert schemas(derived)["Note-Input"] == expected["Note-Input"]
    assert schemas(derived)["Note-Output"] == expected["Note-Output"]
    assert "Note" not in schemas(derived)
    body = derived["paths"]["/notes/{note_id}"]["put"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["$ref"].endswith("/Note-Input")
    assert response_ref(derived, "put", "/notes/{note_id}").endswith("/Note-Output")


def test_one_sided_schemas_take_their_sides_form() -> None:
    derived = derive(
        schema("ThingIn").field("size").changed(Decimal, forward=same, back=same),
        schema("Thing").field("id").changed(Decimal, forward=same, back=same),
    )
    size = schemas(derived)["ThingIn"]["properties"]["size"]
    assert size == {"anyOf": [{"type": "number"}, {"type": "string"}], "title": "Size"}
    assert schemas(derived)["Thing"]["properties"]["id"]["type"] == "string"


def test_old_schema_gives_one_form_and_a_renamed_field_keeps_its_type() -> None:
    derived = derive(
        schema("Thing")
        .field("title")
        .changed(old_schema={"type": "integer"}, forward=same, back=same),
        schema("Thing").field("title").renamed("number"),
    )
    assert schemas(derived)["Thing"]["properties"]["number"] == {
        "type": "integer",
        "title": "Number",
    }


def test_an_input_output_pair_answers_to_its_base_name() -> None:
    derived = derive(schema("Money").field("amount").renamed("value"))
    for name in ("Money-Input", "Money-Output"):
        assert list(schemas(derived)[name]["properties"]) == ["value"]
        assert schemas(derived)[name]["required"] == ["value"]


def test_a_renamed_schema_takes_its_title_and_every_reference() -> None:
    derived = derive(schema("Thing").renamed("Item"), schema("Money").renamed("Cash"))
    assert "Thing" not in schemas(derived)
    assert schemas(derived)["Item"]["title"] == "Item"
    assert schemas(derived)["ThingPage"]["properties"]["data"]["items"]["$ref"].endswith("/Item")
    assert response_ref(derived, "get", "/things/{thing_id}").endswith("/Item")
    assert {"Cash-Input", "Cash-Output"} <= set(schemas(derived))
    assert schemas(derived)["Priced-Output"]["properties"]["money"]["$ref"].endswith("/Cash-Output")


def test_an_added_field_from_a_type_or_a_schema() -> None:
    derived = derive(
        schema("Thing").field("color").added(str, fill="red"),
        schema("Owner").field("age").added(schema={"type": "integer"}, fill=0, required=True),
    )
    assert schemas(derived)["Thing"]["properties"]["color"] == {"title": "Color", "type": "string"}
    assert "color" not in schemas(derived)["Thing"]["required"]
    assert schemas(derived)["Owner"]["properties"]["age"] == {"title": "Age", "type": "integer"}
    assert schemas(derived)["Owner"]["required"] == ["name", "email", "age"]


def test_converters_apply_their_declared_document_effect() -> None:
    def describe(component: Any) -> Any:
        return {**component, "description": "old"}

    def deprecate(operation: Any) -> Any:
        return {**operation, "deprecated": True}

    derived = derive(
        schema("Tag").converter(response=same, document=describe),
        schema("Owner").converter(response=same, document=unchanged),
        endpoint("GET", "/things/").converter(response=same, document=deprecate),
    )
    assert schemas(derived)["Tag"]["description"] == "old"
    assert schemas(derived)["Owner"] == schemas(successor_document())["Owner"]
    assert derived["paths"]["/things/"]["get"]["deprecated"] is True


def test_endpoints_removed_moved_renamed_and_remapped() -> None:
    derived = derive(
        endpoint("DELETE", "/things/{thing_id}").removed(),
        endpoint("PUT", "/notes/{note_id}").moved(path="/memos/{note_id}", method="POST"),
        endpoint("GET", "/things/").named("all_things"),
        endpoint("POST", "/things/").status(old=200, new=201),
        endpoint("PUT", "/prices/").removed(),
    )
    assert "delete" not in derived["paths"]["/things/{thing_id}"]
    assert "/notes/{note_id}" not in derived["paths"]
    assert (
        derived["paths"]["/memos/{note_id}"]["post"]["operationId"]
        == "put_note_notes__note_id__put"
    )
    assert derived["paths"]["/things/"]["get"]["operationId"] == "all_things"
    assert list(derived["paths"]["/things/"]["post"]["responses"]) == ["200", "422"]
    assert "/prices/" not in derived["paths"]
    assert not {"Priced-Input", "Money-Output"} & set(schemas(derived))  # pruned


def test_the_input_document_is_never_changed() -> None:
    successor = successor_document()
    before = copy.deepcopy(successor)
    derive_document(
        successor,
        [
            schema("Thing").renamed("Item"),
            schema("Thing").field("title").renamed("name"),
            schema("Note").field("text").changed(Decimal, forward=same, back=same),
            schema("Owner").field("email").removed(),
            schema("Tag").field("x").added(int, fill=1),
            endpoint("GET", "/things/").status(old=202, new=200),
            endpoint("PUT", "/prices/").removed(),
        ],
    )
    assert successor == before
