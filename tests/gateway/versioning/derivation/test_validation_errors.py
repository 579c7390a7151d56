"""A successor's 422 errors moved back to the old version's field names and inputs."""

from __future__ import annotations

from typing import Any

from gateway.versioning.derivation.declarations import schema
from gateway.versioning.derivation.instances import QUARANTINE
from gateway.versioning.derivation.plans import Plan, operation_plans
from gateway.versioning.derivation.validation_errors import errors_back
from tests.gateway.versioning.derivation.successor import successor_document


def request_plan(*changes: Any, method: str = "POST", path: str = "/things/") -> Plan:
    (plan,) = [
        p.request
        for p in operation_plans(successor_document(), changes)
        if (p.method, p.path) == (method, path)
    ]
    assert plan is not None
    return plan


def error(kind: str, *loc: Any, value: Any = "sent") -> dict[str, Any]:
    return {"type": kind, "loc": ["body", *loc], "msg": "m", "input": value}


def test_a_renamed_field_is_reported_under_its_old_name_with_the_old_input() -> None:
    plan = request_plan(schema("ThingIn").field("title").renamed("name"))
    old = {"name": 5}
    moved = errors_back(plan, [error("string_type", "title", value=5)], old)
    assert moved == [error("string_type", "name", value=5)]


def test_missing_reports_the_old_object_that_lacks_the_key() -> None:
    plan = request_plan(schema("ThingIn").field("title").renamed("name"))
    old = {"size": 2}
    moved = errors_back(plan, [error("missing", "title", value={"size": 2})], old)
    assert moved == [error("missing", "name", value={"size": 2})]


def test_a_quarantined_key_gets_the_name_the_client_sent() -> None:
    plan = request_plan(schema("ThingIn").field("size").removed())
    old = {"title": "Pen", "size": 2}
    moved = errors_back(plan, [error("extra_forbidden", QUARANTINE + "size", value=2)], old)
    assert moved == [error("extra_forbidden", "size", value=2)]


def test_errors_under_a_retyped_field_are_reported_once_at_that_field() -> None:
    change = (
        schema("Money").field("amount").changed(int, forward=lambda v: {"v": v}, back=lambda v: v)
    )
    plan = request_plan(change, method="PUT", path="/prices/")
    old = {"money": {"amount": "x"}}
    detail = [error("a", "money", "amount", "v"), error("a", "money", "amount", "w")]
    assert errors_back(plan, detail, old) == [error("a", "money", "amount", value="x")]


def test_errors_elsewhere_pass_unchanged() -> None:
    plan = request_plan(schema("ThingIn").field("title").renamed("name"))
    query = {"type": "int_parsing", "loc": ["query", "limit"], "msg": "m", "input": "x"}
    unknown = error("string_type", "size", value="x")
    assert errors_back(plan, [query, unknown, "not an error"], {"size": "x"}) == [
        query,
        unknown,
        "not an error",
    ]
