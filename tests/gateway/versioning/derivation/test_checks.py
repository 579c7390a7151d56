"""Load-time checks: every problem is one line naming the module and the declaration."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import DerivationError, VersionLoadError
from gateway.versioning.derivation.declarations import Declaration, endpoint, schema
from gateway.versioning.derivation.document import derive_document
from tests.gateway.versioning.derivation.successor import successor_document


def same(value: Any) -> Any:
    return value


def line_for(*changes: Declaration, own: dict[str, Any] | None = None) -> str:
    with pytest.raises(DerivationError) as raised:
        derive_document(
            successor_document(),
            list(changes),
            successor_name="v2",
            source="versions/v1.py",
            own=own,
        )
    assert isinstance(raised.value, VersionLoadError)
    text = str(raised.value)
    assert "\n" not in text
    return text


S = 'schema("Thing")'


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            [schema("Thingg").field("title").renamed("name")],
            'schema("Thingg").field("title").renamed("name"): v2 has no schema Thingg '
            "(did you mean Thing?)",
        ),
        (
            [schema("Zzz").renamed("Old")],
            'schema("Zzz").renamed("Old"): v2 has no schema Zzz',
        ),
        (
            [schema("Thing").field("titel").renamed("name")],
            f'{S}.field("titel").renamed("name"): v2\'s Thing has no field titel; '
            "it has id, title, owner, tags",
        ),
        (
            [endpoint("PATCH", "/thing/{thing_id}").removed()],
            'endpoint("PATCH", "/thing/{thing_id}").removed(): '
            "v2 has no operation PATCH /thing/{thing_id}",
        ),
        (
            [schema("Thing").field("tags").removed(), schema("Thing").field("tags").renamed("l")],
            f'{S}.field("tags").renamed("l") contradicts {S}.field("tags").removed()',
        ),
        (
            [schema("Thing").field("id").renamed("a"), schema("Thing").field("title").renamed("a")],
            f'{S}.field("title").renamed("a") contradicts {S}.field("id").renamed("a")',
        ),
        (
            [schema("Thing").renamed("A"), schema("Thing").renamed("B")],
            f'{S}.renamed("B") contradicts {S}.renamed("A")',
        ),
        (
            [endpoint("GET", "/things/").removed(), endpoint("GET", "/things/").named("x")],
            'endpoint("GET", "/things/").named("x") contradicts '
            'endpoint("GET", "/things/").removed()',
        ),
        (
            [
                endpoint("GET", "/things/").status(old=202, new=200),
                endpoint("GET", "/things/").status(old=203, new=200),
            ],
            'endpoint("GET", "/things/").status(old=203, new=200) contradicts '
            'endpoint("GET", "/things/").status(old=202, new=200)',
        ),
        (
            [schema("Thing").field("title").renamed("id")],
            f'{S}.field("title").renamed("id"): Thing already has a field id',
        ),
        (
            [
                schema("Thing").field("color").added(str, fill="red"),
                schema("Thing").field("id").added(int, fill=1),
            ],
            f'{S}.field("id").added(int, fill=1): Thing already has a field id',
        ),
        (
            [schema("ThingIn").field("title").removed()],
            'schema("ThingIn").field("title").removed(): v2 requires title in requests; '
            "give default= or from_request=",
        ),
        (
            [schema("Thing").renamed("Owner")],
            f'{S}.renamed("Owner"): v2 already has a schema Owner',
        ),
        (
            [endpoint("GET", "/things/").moved(method="POST")],
            'endpoint("GET", "/things/").moved(method="POST"): '
            "v2 already has POST /things/; remove or move it too",
        ),
        (
            [endpoint("GET", "/things/").status(old=200, new=201)],
            'endpoint("GET", "/things/").status(old=200, new=201): '
            "GET /things/ has no response 201",
        ),
        (
            [endpoint("GET", "/things/{thing_id}").status(old=422, new=200)],
            'endpoint("GET", "/things/{thing_id}").status(old=422, new=200): '
            "GET /things/{thing_id} already answers 422",
        ),
    ],
)
def test_each_problem_is_one_line(changes: list[Declaration], line: str) -> None:
    assert line_for(*changes) == f"versions/v1.py: {line}"


def test_what_is_vacated_may_be_taken() -> None:
    derive_document(
        successor_document(),
        [
            schema("Thing").field("id").removed(),
            schema("Thing").field("title").renamed("id"),
            endpoint("POST", "/things/").removed(),
            endpoint("GET", "/things/").moved(method="POST"),
            schema("Thing").field("title").changed(int, forward=same, back=same),
        ],
    )


def own_list(component: dict[str, Any]) -> dict[str, Any]:
    response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tag"}}}}
    return {
        "paths": {"/things/": {"get": {"responses": {"200": response}}}},
        "components": {"schemas": {"Tag": component}},
    }


def test_a_declaration_on_an_operation_the_module_serves_itself() -> None:
    tag = successor_document()["components"]["schemas"]["Tag"]
    assert line_for(endpoint("GET", "/things/").removed(), own=own_list(tag)) == (
        'versions/v1.py: endpoint("GET", "/things/").removed(): '
        "the module serves GET /things/ itself; drop one of them"
    )


def test_an_own_operation_describing_a_component_unlike_the_derived_one() -> None:
    unlike = {"properties": {"label": {"type": "integer"}}, "type": "object"}
    assert line_for(own=own_list(unlike)) == (
        "versions/v1.py: GET /things/ describes Tag unlike the derived Tag: "
        "label is integer here, string there"
    )


def test_without_a_source_the_line_starts_with_the_declaration() -> None:
    with pytest.raises(DerivationError, match=r'^schema\("Nope"\)\.renamed\("Old"\): the '):
        derive_document(successor_document(), [schema("Nope").renamed("Old")])
