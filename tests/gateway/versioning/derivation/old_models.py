"""Hand-written models of the old version of ``successor.py``'s API: what a derived document
must read as, component for component."""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI
from pydantic import BaseModel


class Owner(BaseModel):
    name: str


class Tag(BaseModel):
    name: str


class Thing(BaseModel):
    id: int
    name: str
    owner: Owner
    tags: list[Tag]


class ThingPage(BaseModel):
    data: list[Thing]
    next: str | None


class Note(BaseModel):
    text: Decimal


def old_things_app() -> FastAPI:
    """The old list: things with a name, owners without an email, tags with a name."""
    app = FastAPI()

    @app.get("/things/")
    async def list_things() -> ThingPage:
        raise NotImplementedError

    return app


def old_notes_app() -> FastAPI:
    """Notes whose text was a decimal: read and written by one operation."""
    app = FastAPI()

    @app.put("/notes/{note_id}")
    async def put_note(note_id: int, body: Note) -> Note:
        raise NotImplementedError

    return app
