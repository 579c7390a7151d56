"""D0: the successor of the derived-version benchmark: one authenticated route that answers an
object, with no database work, so that the cost of deriving is what the ratio shows."""

from __future__ import annotations

from pydantic import BaseModel

from gateway import CurrentPrincipal, create_version_app

app = create_version_app(title="Bench API", description="One authenticated object, no database.")


class Thing(BaseModel):
    id: int
    title: str
    owner: str
    tags: list[str]


@app.get("/things/{thing_id}")
async def read_thing(thing_id: int, principal: CurrentPrincipal) -> Thing:
    return Thing(id=thing_id, title="Pen", owner=principal.username, tags=["red", "blue"])
