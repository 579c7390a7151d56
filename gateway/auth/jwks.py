"""``GET /apiv<N>/.well-known/jwks.json``: the public keys that verify the gateway's tokens.

Another service (or a client) can check a gateway token offline with these (RFC 7517): each key
has its ``kid``, ``kty``, ``alg`` and ``use: "sig"``. HMAC secrets are never published, so with
HMAC keys only the set is empty. Every version serves the same set: all versions share the keys.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from gateway.auth.services import get_auth_services

JWKS_PATH = "/.well-known/jwks.json"
# Long enough to spare the gateway, short enough that a key added for a rotation is seen soon:
# publish a new key (not yet active) and wait this long before making it the active one.
JWKS_MAX_AGE = 300


async def jwks(request: Request) -> JSONResponse:
    """The JSON Web Key Set of the configured public keys, built once at startup."""
    return JSONResponse(
        get_auth_services(request).tokens.jwks,
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
    )
