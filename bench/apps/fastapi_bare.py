"""R1: the FastAPI tutorial's bearer dependency, with no verification of the token at all.

``OAuth2PasswordBearer`` only checks that an ``Authorization: Bearer ...`` header is there, so
this is what FastAPI itself costs for an "authenticated" route. ``/apiv1/open`` answers the same
with no dependency at all (R1-open).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.security import OAuth2PasswordBearer

app = FastAPI()
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


@app.get("/apiv1/ping")
async def ping(token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, str]:
    return {"user": "alice"}


@app.get("/apiv1/open")
async def open_ping() -> dict[str, str]:
    """The same answer with no dependency: what FastAPI costs around a route."""
    return {"user": "alice"}
