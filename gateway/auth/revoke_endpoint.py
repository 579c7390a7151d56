"""``POST /apiv<N>/revoke``: token revocation (RFC 7009).

An access token is revoked by its ``jti``; a refresh token takes its whole family with it, and
the access tokens issued from that family (RFC 7009 2.1). The answer is 200 whether or not the
token was valid or known (2.2): a client cannot learn anything about a token by revoking it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request, Response

from gateway.auth.oauth import (
    NO_STORE,
    authenticate_client,
    oauth_error_response,
    read_form,
)
from gateway.auth.refresh_tokens import RefreshTokens
from gateway.auth.services import AuthServices, get_auth_services, get_version
from gateway.errors import OAuthError, TokenError
from gateway.version_info import VersionInfo


async def revoke_endpoint(request: Request) -> Response:
    """Revoke an access or refresh token issued by this version."""
    version = get_version(request)
    try:
        params = await read_form(request)
        authenticate_client(request, params, version)
        token = params.get("token")
        if not token:
            raise OAuthError("invalid_request", "The 'token' parameter is required")
    except OAuthError as error:
        return oauth_error_response(error, version)
    services = get_auth_services(request)
    # The hint only says where to look first (2.1); both kinds are tried.
    if params.get("token_type_hint") == "refresh_token" or token.count(".") != 2:
        await _revoke_refresh(services, version, token) or await _revoke_access(
            services, version, token
        )
    else:
        await _revoke_access(services, version, token) or await _revoke_refresh(
            services, version, token
        )
    return Response(status_code=200, headers=NO_STORE)


async def _revoke_access(services: AuthServices, version: VersionInfo, token: str) -> bool:
    try:
        claims = services.tokens.verify(token, audience=version.name)
    except TokenError:
        return False  # expired, foreign or forged: nothing to revoke
    expires = datetime.fromtimestamp(claims.expires_at, UTC) + timedelta(minutes=1)
    await services.revocations.revoke(expires, token_id=claims.token_id)
    return True


async def _revoke_refresh(services: AuthServices, version: VersionInfo, token: str) -> bool:
    lifetime = timedelta(days=services.settings.auth.refresh_token_days)
    async with services.database.sessions() as session:
        store = RefreshTokens(session, lifetime)
        family = await store.family_of(token, version.number)
        if family is None:
            return False
        await store.revoke_family(family)
        await session.commit()
    expires = datetime.now(UTC) + services.tokens.lifetime + timedelta(minutes=1)
    await services.revocations.revoke(expires, family=family)
    return True


REVOKE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {
                        "token": {"type": "string"},
                        "token_type_hint": {
                            "type": "string",
                            "enum": ["access_token", "refresh_token"],
                        },
                    },
                }
            }
        },
    },
    "responses": {"200": {"description": "Revoked, or nothing to revoke"}},
}
