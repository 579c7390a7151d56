"""Lenient binding: the declarations a changed successor no longer fits set aside, each with its
line and its place in the module's list, and the version bound with the others."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from gateway import create_version_app, derive_version, schema
from gateway.errors import DerivationError
from gateway.versioning.derivation.binding import derivation_of
from gateway.versioning.derivation.lenient import Stale, bind_leniently


class Thing(BaseModel):
    id: int
    label: str


def successor() -> FastAPI:
    app = create_version_app(title="Things")

    @app.get("/things/{thing_id}")
    async def read_thing(thing_id: int) -> Thing:
        raise NotImplementedError

    return app


def properties(app: FastAPI) -> list[str]:
    return list(app.openapi()["components"]["schemas"]["Thing"]["properties"])


def test_stale_declarations_are_set_aside_and_the_others_bound() -> None:
    derived = derive_version(
        changes=[
            schema("Thing").field("title").renamed("name"),  # v2 calls it label now
            schema("Thing").field("id").renamed("key"),
            schema("Thingy").field("label").removed(),
        ]
    )
    stale = bind_leniently(derived, successor(), successor_name="v2", source="v1.py")
    assert stale == (
        Stale(
            schema("Thing").field("title").renamed("name"),
            0,
            'v1.py: schema("Thing").field("title").renamed("name"): v2\'s Thing has no field '
            "title; it has id, label",
        ),
        Stale(
            schema("Thingy").field("label").removed(),
            2,
            'v1.py: schema("Thingy").field("label").removed(): v2 has no schema Thingy (did you '
            "mean Thing?)",
        ),
    )
    derivation = derivation_of(derived)
    assert derivation is not None
    assert [d.text for d in derivation.changes] == ['schema("Thing").field("id").renamed("key")']
    assert properties(derived) == ["key", "label"]


def test_with_nothing_stale_it_binds_as_a_strict_load_does() -> None:
    derived = derive_version(changes=[schema("Thing").field("label").renamed("title")])
    assert bind_leniently(derived, successor(), successor_name="v2", source="v1.py") == ()
    assert properties(derived) == ["id", "title"]


# The old version's own model of a thing, under the successor's component name.
OldThing = type("Thing", (BaseModel,), {"__annotations__": {"id": int, "name": str}})


def test_an_error_that_names_no_declaration_raises_the_first_one() -> None:
    derived = derive_version(changes=[schema("Thing").field("title").renamed("name")])

    @derived.get("/mine", response_model=OldThing)
    async def mine() -> None:  # once the rename is set aside, its Thing is unlike the derived
        raise NotImplementedError

    with pytest.raises(DerivationError) as raised:
        bind_leniently(derived, successor(), successor_name="v2", source="v1.py")
    assert str(raised.value) == (
        'v1.py: schema("Thing").field("title").renamed("name"): v2\'s Thing has no field title; '
        "it has id, label"
    )
    assert "GET /mine describes Thing unlike the derived Thing" in str(raised.value.__cause__)
