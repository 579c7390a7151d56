"""The OAuth 2.0 vocabulary the token and revocation routes share (RFC 6749, RFC 7009).

The requests are parsed here rather than with FastAPI's ``OAuth2PasswordRequestForm``, because
clients rely on RFC 6749's error vocabulary: a missing or repeated parameter, a JSON body or a
wrong content type must be ``400 invalid_request`` (5.2), never FastAPI's 422. Authlib and
requests-oauthlib only recognise a failed login by the ``error`` key in the JSON body.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import parse_qsl, unquote_plus

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.auth.services import get_auth_services
from gateway.errors import OAuthError
from gateway.version_info import VersionInfo

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SINGLE_VALUED = (
    "grant_type",
    "username",
    "password",
    "scope",
    "refresh_token",
    "token",
    "token_type_hint",
    "client_id",
    "client_secret",
)


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str


def oauth_error_response(error: OAuthError, version: VersionInfo) -> JSONResponse:
    headers = dict(NO_STORE)
    if error.status_code == 401:
        headers["WWW-Authenticate"] = f'Basic realm="{version.name}"'
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status_code,
        headers=headers,
    )


def retry_later(error: str, description: str, status: int, seconds: int) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, "Retry-After": str(seconds)},
    )


async def read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise OAuthError(
            "invalid_request",
            f"The request must be sent as {FORM_TYPE}, not {media_type or 'an empty content type'}",
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise OAuthError("invalid_request", "The request body is too large")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=32)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The request body is not valid form data") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params and key in SINGLE_VALUED:
            raise OAuthError("invalid_request", f"The parameter {key!r} is repeated")
        # Unknown parameters are ignored (RFC 6749 3.2).
        params.setdefault(key, value)
    return params


def authenticate_client(request: Request, params: dict[str, str], version: VersionInfo) -> None:
    """RFC 6749 2.3.1: HTTP Basic, or ``client_id``/``client_secret`` in the body, not both."""
    header = request.headers.get("authorization")
    in_body = "client_id" in params or "client_secret" in params
    if header and in_body:
        raise OAuthError("invalid_request", "Send client credentials in one place only")
    if header:
        client_id, secret = _basic_credentials(header)
    else:
        client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
    clients = get_auth_services(request).settings.auth.clients
    if not clients:
        return  # No clients configured: every client is public, as Swagger UI is.
    expected = clients.get(client_id)
    if expected is None or not hmac.compare_digest(
        expected.get_secret_value().encode(), secret.encode()
    ):
        raise OAuthError("invalid_client", "Unknown client or wrong client secret", 401)


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "Client authentication must use HTTP Basic", 401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(
            "invalid_client", "The Basic credentials are not valid base64", 401
        ) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "The Basic credentials lack a ':' separator", 401)
    # RFC 6749 2.3.1: the id and secret are form-encoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def requested_scopes(scope: str | None, version: VersionInfo) -> set[str] | None:
    if scope is None or not scope.strip():
        return None
    requested = set(scope.split())
    unknown = sorted(requested - set(version.scopes))
    if unknown:
        offered = ", ".join(sorted(version.scopes)) or "no scopes"
        raise OAuthError(
            "invalid_scope", f"Unknown scope {' '.join(unknown)}; this version offers {offered}"
        )
    return requested
