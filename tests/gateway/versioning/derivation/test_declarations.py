"""The vocabulary: each declaration's text, and the checks of its own arguments."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from decimal import Decimal
from typing import Annotated, Any

import pytest

from gateway.versioning.derivation.declarations import (
    Declaration,
    FieldRenamed,
    endpoint,
    schema,
    unchanged,
)


def price_forward(value: Any) -> Any:
    return value


def price_back(value: Any) -> Any:
    return value


@pytest.mark.parametrize(
    ("declaration", "text"),
    [
        (schema("ItemCreate").renamed("ItemIn"), 'schema("ItemCreate").renamed("ItemIn")'),
        (
            schema("ItemOut").field("title").renamed("name"),
            'schema("ItemOut").field("title").renamed("name")',
        ),
        (schema("ItemOut").field("tags").removed(), 'schema("ItemOut").field("tags").removed()'),
        (
            schema("ItemOut").field("tags").removed(default=[]),
            'schema("ItemOut").field("tags").removed(default=[])',
        ),
        (
            schema("ItemOut").field("tags").removed(from_request=price_forward),
            'schema("ItemOut").field("tags").removed(from_request=price_forward)',
        ),
        (
            schema("ItemOut").field("color").added(str, fill="red"),
            'schema("ItemOut").field("color").added(str, fill="red")',
        ),
        (
            schema("ItemOut").field("n").added(schema={"type": "integer"}, fill=0, required=True),
            'schema("ItemOut").field("n").added(schema={"type": "integer"}, fill=0, required=True)',
        ),
        (
            schema("ItemOut")
            .field("price")
            .changed(Annotated[Decimal, "x"], forward=price_forward, back=price_back),
            'schema("ItemOut").field("price")'
            ".changed(Annotated[Decimal, ...], forward=price_forward, back=price_back)",
        ),
        (
            schema("ItemOut").field("id").changed(int | None, forward=int, back=str, check=True),
            'schema("ItemOut").field("id").changed(int | None, forward=int, back=str, check=True)',
        ),
        (
            schema("ItemOut").converter(response=price_back, document=unchanged),
            'schema("ItemOut").converter(response=price_back, document=unchanged)',
        ),
        (
            endpoint("PATCH", "/items/{item_id}").removed(),
            'endpoint("PATCH", "/items/{item_id}").removed()',
        ),
        (
            endpoint("GET", "/items/{item_id}").moved(path="/things/{item_id}", method="POST"),
            'endpoint("GET", "/items/{item_id}").moved(path="/things/{item_id}", method="POST")',
        ),
        (endpoint("GET", "/items/").named("all"), 'endpoint("GET", "/items/").named("all")'),
        (
            endpoint("POST", "/items/").status(old=200, new=201),
            'endpoint("POST", "/items/").status(old=200, new=201)',
        ),
        (
            endpoint("POST", "/items/").converter(request=lambda r: r, document=unchanged),
            'endpoint("POST", "/items/").converter(request=lambda, document=unchanged)',
        ),
    ],
)
def test_each_declaration_renders_as_written(declaration: Declaration, text: str) -> None:
    assert declaration.text == text
    assert str(declaration) == text


def test_declarations_are_frozen_data() -> None:
    declaration = schema("ItemOut").field("title").renamed("name")
    assert declaration == FieldRenamed("ItemOut", "title", "name")
    with pytest.raises(FrozenInstanceError):
        declaration.old_name = "label"  # type: ignore[misc]


def test_a_method_is_written_in_capitals() -> None:
    assert endpoint("patch", "/items/").method == "PATCH"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: endpoint("FETCH", "/items/"), "'FETCH' is not an HTTP method; use one of"),
        (lambda: endpoint("GET", "items/"), "'items/' is not a path template"),
        (lambda: endpoint("GET", "/items/?page=1"), "is not a path template"),
        (lambda: endpoint("GET", "/items/{item id}"), "is not a path template"),
        (lambda: schema(""), "the schema must be a non-empty name"),
        (lambda: schema("ItemOut").field(" "), "the field must be a non-empty name"),
        (lambda: schema("ItemOut").renamed("ItemOut"), "the old name is the same as the new one"),
        (lambda: schema("A").field("x").renamed("x"), "the old name is the same as the new one"),
        (lambda: schema("A").field("x").renamed(""), "the old name must be a non-empty name"),
        (
            lambda: schema("A").field("x").removed(default=1, from_request=len),
            "give default= or from_request=, not both",
        ),
        (lambda: schema("A").field("x").added(fill=1), "give the old type or schema="),
        (
            lambda: schema("A").field("x").added(int, schema={"type": "integer"}, fill=1),
            "exactly one of them",
        ),
        (
            lambda: schema("A").field("x").added(int, fill=1, on_request="keep"),  # type: ignore[arg-type]
            'on_request= is "drop" or a function',
        ),
        (
            lambda: schema("A").field("x").changed(forward=int, back=str),
            "give the old type or old_schema=",
        ),
        (
            lambda: schema("A").field("x").changed(int, forward=1, back=str),  # type: ignore[arg-type]
            "forward= and back= must be functions",
        ),
        (
            lambda: (
                schema("A").field("x").changed(old_schema={}, forward=int, back=str, check=True)
            ),
            "check=True validates with the old type",
        ),
        (lambda: schema("A").converter(document=unchanged), "give request=, response= or both"),
        (
            lambda: schema("A").converter(request=dict, document=None),  # type: ignore[arg-type]
            "document= must be a function of the schema, or unchanged",
        ),
        (lambda: endpoint("GET", "/a").moved(), "give the old path=, the old method= or both"),
        (lambda: endpoint("GET", "/a").moved(path="/a"), "the old method and path are the current"),
        (
            lambda: endpoint("GET", "/a/{x}").moved(path="/b/{y}"),
            "/b/{y} must bind the same parameters as /a/{x}",
        ),
        (lambda: endpoint("GET", "/a").named("list items"), "an operationId has no spaces"),
        (lambda: endpoint("GET", "/a").status(old=200, new=200), "the old status is the same"),
        (lambda: endpoint("GET", "/a").status(old=99, new=200), "99 is not an HTTP status code"),
        (lambda: endpoint("GET", "/a").converter(document=unchanged), "give request=, response="),
    ],
)
def test_bad_arguments_fail_at_once_with_a_message(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build()
