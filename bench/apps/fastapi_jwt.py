"""R2: what a user would write by hand: a FastAPI app mounted at ``/apiv1`` with ``app.mount``,
verifying the gateway's kind of HS256 JWT with PyJWT in a dependency.

The key and the issuer come from the environment (``BENCH_SECRET_KEY``, ``BENCH_ISSUER``), so
the benchmark can sign the token with the same key and claims as the gateway's.
"""

from __future__ import annotations

import os
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

SECRET_KEY = os.environ["BENCH_SECRET_KEY"]
ISSUER = os.environ.get("BENCH_ISSUER", "gateway")
AUDIENCE = "apiv1"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


async def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> str:
    try:
        payload = jwt.decode(
            token,
            SECRET_KEY,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidTokenError:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    subject: str = payload["sub"]
    return subject


api = FastAPI()


@api.get("/ping")
async def ping(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
    return {"user": user}


app = FastAPI()
app.mount("/apiv1", api)
