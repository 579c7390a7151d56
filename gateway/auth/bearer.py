"""Bearer authentication for version routes (RFC 6750), on top of the pure ``tokens`` module.

Version modules declare what a route needs with ``CurrentPrincipal`` or ``require_scopes(...)``;
this module turns every failure into the RFC 6750 answer, with the version as the realm:

- no token: 401 ``WWW-Authenticate: Bearer realm="apiv<N>"`` and no error code (section 3);
- a bad token: 401 with ``error="invalid_token"`` (3.1);
- a missing scope: 403 with ``error="insufficient_scope"`` and the scopes needed (3.1).

Only the ``Authorization`` header is read: a token in the query string is never accepted (5.3).

The token is verified once per request, for the version the client called (``RequestFacts``): a
route that depends on the caller twice, or a derived version's request served by its successor's
route, finds the claims already checked and the call already counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import HTTPException, Request, Security
from fastapi.openapi.models import OAuth2 as OAuth2Model
from fastapi.openapi.models import OAuthFlowPassword
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.responses import JSONResponse
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from starlette.datastructures import Headers
from starlette.types import Scope

from gateway.auth.ratelimit import RateLimiter
from gateway.auth.services import AuthServices
from gateway.auth.tokens import Claims
from gateway.errors import BearerError, LimitExceededError, TokenError
from gateway.observability.request_facts import request_facts
from gateway.version_info import VersionInfo, version_name

# One scheme for all versions. Each version's OpenAPI document renames it to the version's own
# scheme (see ``docs.py``), so route code can use the shared aliases below.
SHARED_SCHEME_NAME = "GatewayOAuth2"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's subject and the scopes it was granted."""

    username: str
    scopes: frozenset[str]


def bearer_token(headers: Headers) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (any case), else ``None``."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if token and scheme.lower() == "bearer" else None


def bearer_error_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BearerError)
    challenge = [f'realm="{version_name(called_version(request.scope))}"']
    body: dict[str, str] = {"detail": exc.description}
    if exc.error:
        challenge += [f'error="{exc.error}"', f'error_description="{exc.description}"']
        body = {"error": exc.error, "error_description": exc.description, **body}
    if exc.scope:
        challenge.append(f'scope="{exc.scope}"')
        body["scope"] = exc.scope
    return JSONResponse(
        body,
        status_code=exc.status_code,
        headers={"WWW-Authenticate": "Bearer " + ", ".join(challenge)},
    )


class BearerAuthentication(SecurityBase):
    """The version's OAuth2 bearer scheme and the token check, as one dependency.

    FastAPI's tutorial chains two dependencies: ``OAuth2PasswordBearer`` reads the header, and a
    function verifies what it returns. Every dependency level costs a pass of FastAPI's resolver
    on every request, and this check is on nearly every request, so here the scheme object does
    both: FastAPI still finds a ``SecurityBase`` with an OAuth2 password flow (the OpenAPI
    scheme and Swagger UI's Authorize button), while a request pays for one dependency.
    """

    def __init__(self, scheme_name: str) -> None:
        self.scheme_name = scheme_name
        self.model = OAuth2Model(
            flows=OAuthFlowsModel(password=OAuthFlowPassword(tokenUrl="token", scopes={}))
        )

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Principal:
        """The caller named by a valid bearer token issued by this version's token route."""
        claims = await verified_claims(request.scope, request.app.state.gateway)
        if security_scopes.scopes and not claims.scopes.issuperset(security_scopes.scopes):
            raise BearerError(
                403,
                "insufficient_scope",
                f"This request needs the scope {' '.join(security_scopes.scopes)}",
                scope=security_scopes.scope_str,
            )
        return Principal(username=claims.subject, scopes=claims.scopes)


def called_version(scope: Scope) -> int:
    """The version the client called: the dispatcher's choice, which a derived version's
    successor shares; the serving app's own number for an app called on its own (tests)."""
    number = request_facts(scope).version
    if number is None:
        version: VersionInfo = scope["app"].state.version
        number = version.number
    return number


async def verified_claims(scope: Scope, services: AuthServices) -> Claims:
    """The claims of the request's bearer token, verified for the called version and counted
    once; raises ``BearerError`` (or a 429) when there is no valid token."""
    facts = request_facts(scope)
    if facts.claims is not None:
        claims: Claims = facts.claims
        return claims
    token = bearer_token(Headers(scope=scope))
    if token is None:
        raise BearerError(401)
    number = called_version(scope)
    try:
        claims = services.tokens.verify(token, audience=version_name(number))
    except TokenError as error:
        raise BearerError(401, "invalid_token", str(error)) from None
    if services.revocations.is_revoked(claims.token_id, claims.family):
        raise BearerError(401, "invalid_token", "The access token was revoked")
    facts.principal = claims.subject  # for the usage counts, 429s and 403s too
    # Every verified call counts, whatever its scopes, once per request (STANDARDS 8).
    if not facts.counted:
        facts.counted = True
        if not services.limiter.spend_lease(number, claims.subject):
            await _count_call(services.limiter, number, claims.subject)
    facts.claims = claims
    return claims


# The dependency every version shares; ``app.dependency_overrides[current_principal]`` replaces
# it, for example in a version's own tests.
current_principal = BearerAuthentication(SHARED_SCHEME_NAME)


async def _count_call(limiter: RateLimiter, version: int, subject: str) -> None:
    try:
        await limiter.check_call(version, subject)
    except LimitExceededError as limited:
        headers = {"Retry-After": str(limited.retry_after)}
        raise HTTPException(429, limited.description, headers=headers) from None


CurrentPrincipal = Annotated[Principal, Security(current_principal)]


def require_scopes(*scopes: str) -> Any:
    """A dependency marker: ``Annotated[Principal, require_scopes("items:write")]``."""
    return Security(current_principal, scopes=list(scopes))
