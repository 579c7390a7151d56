"""``POST /apiv<N>/token``: the password grant (RFC 6749 4.3) and the refresh token grant (6),
with every answer, success or error, marked ``Cache-Control: no-store`` (5.1, 5.2)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from gateway.auth.grants import password_grant, refresh_grant
from gateway.auth.oauth import (
    FORM_TYPE,
    NO_STORE,
    OAuthErrorBody,
    authenticate_client,
    oauth_error_response,
    read_form,
    retry_later,
)
from gateway.auth.services import get_version
from gateway.errors import LimitExceededError, OAuthError, StoreUnavailableError
from gateway.observability.metrics import record_token_failed, record_token_issued

GRANTS = {"password": password_grant, "refresh_token": refresh_grant}


async def token_endpoint(request: Request) -> JSONResponse:
    """Exchange a username and password, or a refresh token, for an access token."""
    version = get_version(request)
    try:
        params = await read_form(request)
        authenticate_client(request, params, version)
        grant_type = params.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "The 'grant_type' parameter is missing")
        grant = GRANTS.get(grant_type)
        if grant is None:
            raise OAuthError(
                "unsupported_grant_type",
                f"The grant type {grant_type!r} is not supported; "
                "use 'password' or 'refresh_token'",
            )
        response = await grant(request, version, params)
    except OAuthError as error:
        record_token_failed(version.number, error.error)
        return oauth_error_response(error, version)
    except LimitExceededError as limited:  # STANDARDS 8; "slow_down" is RFC 8628's registered code
        record_token_failed(version.number, "slow_down")
        return retry_later("slow_down", limited.description, 429, limited.retry_after)
    except StoreUnavailableError as down:  # STANDARDS 30: without the shared counts, fail closed
        record_token_failed(version.number, "temporarily_unavailable")
        return retry_later(
            "temporarily_unavailable", f"Logins are paused: {down}", 503, down.retry_after
        )
    record_token_issued(version.number)
    return response


async def token_method_not_allowed(request: Request) -> JSONResponse:
    return JSONResponse(
        {"error": "invalid_request", "error_description": "The token endpoint accepts only POST"},
        status_code=405,
        headers={**NO_STORE, "Allow": "POST"},
    )


TOKEN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_TYPE: {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
                        "username": {"type": "string", "description": "password grant"},
                        "password": {
                            "type": "string",
                            "format": "password",
                            "description": "password grant",
                        },
                        "refresh_token": {"type": "string", "description": "refresh grant"},
                        "scope": {"type": "string", "description": "Space-separated scopes"},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string", "format": "password"},
                    },
                }
            }
        },
    }
}

TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorBody, "description": "RFC 6749 5.2 error"},
    401: {"model": OAuthErrorBody, "description": "Client authentication failed"},
    429: {"model": OAuthErrorBody, "description": "Too many attempts; see Retry-After"},
    503: {"model": OAuthErrorBody, "description": "Logins are paused; see Retry-After"},
}
