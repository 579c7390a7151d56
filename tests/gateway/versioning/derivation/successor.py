"""A small successor API for the derivation tests: nested models, arrays, a page, a model read
and written by one operation, and a decimal that pydantic splits into ``-Input``/``-Output``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict


class Owner(BaseModel):
    name: str
    email: str


class Tag(BaseModel):
    label: str


class Thing(BaseModel):
    id: int
    title: str
    owner: Owner
    tags: list[Tag]


class ThingPage(BaseModel):
    data: list[Thing]
    next: str | None


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    size: int = 1


class Note(BaseModel):
    text: str


class Money(BaseModel):
    amount: Decimal


class Priced(BaseModel):
    money: Money


def successor_app() -> FastAPI:
    app = FastAPI()

    @app.get("/things/")
    async def list_things() -> ThingPage:
        raise NotImplementedError

    @app.post("/things/", status_code=201)
    async def create_thing(body: ThingIn) -> Thing:
        raise NotImplementedError

    @app.get("/things/{thing_id}")
    async def read_thing(thing_id: int) -> Thing:
        raise NotImplementedError

    @app.delete("/things/{thing_id}", status_code=204)
    async def delete_thing(thing_id: int) -> None:
        raise NotImplementedError

    @app.put("/notes/{note_id}")
    async def put_note(note_id: int, body: Note) -> Note:
        raise NotImplementedError

    @app.put("/prices/")
    async def put_price(body: Priced) -> Priced:
        raise NotImplementedError

    return app


def successor_document() -> dict[str, Any]:
    return successor_app().openapi()
