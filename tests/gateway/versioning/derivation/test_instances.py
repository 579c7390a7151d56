"""Plans applied to JSON values: each declaration kind forward and back, flat, nested, in arrays
and pages, with closed schemas quarantining what the old version did not know."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from gateway.versioning.derivation.declarations import Declaration, schema
from gateway.versioning.derivation.instances import QUARANTINE, back, forward
from gateway.versioning.derivation.json_types import OldRequest
from gateway.versioning.derivation.plans import OperationPlan, Plan, operation_plans
from tests.gateway.versioning.derivation.successor import successor_document

REQUEST = OldRequest("POST", "/things/", {}, [], [], "alice", None)


def plans(changes: Sequence[Declaration]) -> dict[tuple[str, str], OperationPlan]:
    return {(p.method, p.path): p for p in operation_plans(successor_document(), changes)}


def response_plan(changes: Sequence[Declaration], method: str, path: str, status: int) -> Plan:
    found = plans(changes)[(method, path)].responses[status]
    assert found is not None
    return found


def request_plan(changes: Sequence[Declaration], method: str, path: str) -> Plan:
    found = plans(changes)[(method, path)].request
    assert found is not None
    return found


def old_request() -> OldRequest:
    return REQUEST


THING: dict[str, Any] = {
    "id": 1,
    "title": "Pen",
    "owner": {"name": "Ann", "email": "ann@example.com"},
    "tags": [{"label": "red"}, {"label": "blue"}],
}


def test_a_renamed_field_keeps_its_position_in_responses() -> None:
    plan = response_plan(
        [schema("Thing").field("title").renamed("name")], "GET", "/things/{thing_id}", 200
    )
    moved = back(plan, THING)
    assert list(moved) == ["id", "name", "owner", "tags"]  # type: ignore[arg-type]
    assert moved == {**{k: v for k, v in THING.items() if k != "title"}, "name": "Pen"}


def test_a_renamed_field_moves_forward_in_requests() -> None:
    plan = request_plan([schema("ThingIn").field("title").renamed("name")], "POST", "/things/")
    assert forward(plan, {"name": "Pen", "size": 2}, old_request) == {"title": "Pen", "size": 2}


def test_a_declaration_applies_in_nested_objects_arrays_and_pages() -> None:
    changes = [
        schema("Owner").field("email").renamed("mail"),
        schema("Tag").field("label").renamed("name"),
    ]
    page = {"data": [THING, THING], "next": None}
    moved = back(response_plan(changes, "GET", "/things/", 200), page)
    assert isinstance(moved, dict)
    for thing in moved["data"]:  # type: ignore[union-attr]
        assert thing["owner"] == {"name": "Ann", "mail": "ann@example.com"}  # type: ignore[index]
        assert thing["tags"] == [{"name": "red"}, {"name": "blue"}]  # type: ignore[index]
    assert moved["next"] is None


def test_a_removed_field_is_dropped_from_responses() -> None:
    plan = response_plan(
        [schema("Thing").field("tags").removed()], "GET", "/things/{thing_id}", 200
    )
    assert back(plan, THING) == {k: v for k, v in THING.items() if k != "tags"}


def test_a_removed_field_gets_its_default_or_a_value_from_the_request() -> None:
    with_default = request_plan(
        [schema("ThingIn").field("size").removed(default=7)], "POST", "/things/"
    )
    assert forward(with_default, {"title": "Pen"}, old_request) == {"title": "Pen", "size": 7}
    from_request = request_plan(
        [schema("ThingIn").field("title").removed(from_request=lambda r: f"{r.principal}'s")],
        "POST",
        "/things/",
    )
    assert forward(from_request, {"size": 2}, old_request) == {"size": 2, "title": "alice's"}


def test_a_removed_field_sent_to_a_closed_schema_is_quarantined() -> None:
    plan = request_plan([schema("ThingIn").field("size").removed()], "POST", "/things/")
    moved = forward(plan, {"title": "Pen", "size": 2}, old_request)
    assert moved == {"title": "Pen", QUARANTINE + "size": 2}


def test_an_unknown_key_on_an_open_schema_is_dropped_only_when_the_successor_knows_it() -> None:
    plan = request_plan([schema("Note").field("text").renamed("body")], "PUT", "/notes/{note_id}")
    moved = forward(plan, {"body": "hi", "text": "new name", "other": 1}, old_request)
    assert moved == {"text": "hi", "other": 1}


def test_an_added_field_is_filled_in_responses_and_dropped_or_moved_in_requests() -> None:
    constant = schema("Thing").field("colour").added(str, fill="red")
    computed = schema("Thing").field("label").added(str, fill=lambda thing: thing["title"].upper())
    moved = back(response_plan([constant, computed], "GET", "/things/{thing_id}", 200), THING)
    assert moved == {**THING, "colour": "red", "label": "PEN"}

    dropped = request_plan(
        [schema("ThingIn").field("colour").added(str, fill="")], "POST", "/things/"
    )
    assert forward(dropped, {"title": "Pen", "colour": "red"}, old_request) == {"title": "Pen"}

    def into_title(value: Any, thing: dict[str, Any]) -> None:
        thing["title"] = f"{thing['title']} ({value})"

    kept = request_plan(
        [schema("ThingIn").field("colour").added(str, fill="", on_request=into_title)],
        "POST",
        "/things/",
    )
    assert forward(kept, {"colour": "red", "title": "Pen"}, old_request) == {"title": "Pen (red)"}


def test_a_changed_field_is_converted_both_ways() -> None:
    change = (
        schema("Money")
        .field("amount")
        .changed(
            int,
            forward=lambda cents: f"{cents / 100:.2f}",
            back=lambda amount: round(float(amount) * 100),
        )
    )
    assert forward(
        request_plan([change], "PUT", "/prices/"), {"money": {"amount": 250}}, old_request
    ) == {"money": {"amount": "2.50"}}
    assert back(response_plan([change], "PUT", "/prices/", 200), {"money": {"amount": "2.50"}}) == {
        "money": {"amount": 250}
    }


def test_schema_converters_run_on_the_old_object() -> None:
    converter = schema("Note").converter(
        request=lambda note: {"text": note["words"]},
        response=lambda note: {"words": note["text"]},
        document=lambda document: document,
    )
    assert forward(
        request_plan([converter], "PUT", "/notes/{note_id}"), {"words": "hi"}, old_request
    ) == {"text": "hi"}
    assert back(response_plan([converter], "PUT", "/notes/{note_id}", 200), {"text": "hi"}) == {
        "words": "hi"
    }


@pytest.mark.parametrize("value", [[], None, "text", 3, [1, 2]])
def test_a_value_of_another_shape_passes_unchanged(value: Any) -> None:
    plan = request_plan([schema("ThingIn").field("title").renamed("name")], "POST", "/things/")
    assert forward(plan, value, old_request) == value
    assert (
        back(
            response_plan([schema("Tag").field("label").renamed("x")], "GET", "/things/", 200),
            value,
        )
        == value
    )
