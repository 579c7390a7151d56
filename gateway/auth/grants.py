"""The two grants the token route answers: the resource owner password grant (RFC 6749 4.3),
which starts a refresh-token family, and the refresh token grant (6), which rotates it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.auth.oauth import NO_STORE, requested_scopes
from gateway.auth.refresh_tokens import RefreshTokens, Rotation
from gateway.auth.services import AuthServices, get_auth_services
from gateway.auth.users import MAX_PASSWORD_LENGTH, UserStore
from gateway.errors import OAuthError, RefreshError
from gateway.observability.request_facts import request_facts
from gateway.version_info import VersionInfo


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    scope: str
    refresh_token: str


def _refresh_lifetime(services: AuthServices) -> timedelta:
    return timedelta(days=services.settings.auth.refresh_token_days)


async def password_grant(
    request: Request, version: VersionInfo, params: dict[str, str]
) -> JSONResponse:
    username, password = params.get("username"), params.get("password")
    if not username or not password:
        raise OAuthError("invalid_request", "The 'username' and 'password' parameters are required")
    services = get_auth_services(request)
    # Before any password work, so a flood of guesses costs no argon2 time.
    address = request.client.host if request.client else None
    await services.limiter.check_login(username, address)
    requested = requested_scopes(params.get("scope"), version)

    # No session stays open across the verify: logins queued behind argon2 would each hold a
    # pooled connection, and a burst of them would starve every other request of the database.
    async with services.database.sessions() as session:
        user = (
            await UserStore(session).get(username) if len(password) <= MAX_PASSWORD_LENGTH else None
        )
    valid, new_hash = await services.passwords.verify(
        password[:MAX_PASSWORD_LENGTH], user.password_hash if user else None
    )
    if not valid or user is None:
        raise OAuthError("invalid_grant", "Invalid username or password")
    await services.limiter.login_succeeded(username)  # the account budget counts failures
    offered = requested if requested is not None else set(version.scopes)
    scopes = tuple(sorted(offered & set(user.scope_list)))
    async with services.database.sessions() as session:
        if new_hash:
            await UserStore(session).set_password_hash(user.username, new_hash)
        refresh = RefreshTokens(session, _refresh_lifetime(services))
        rotation = await refresh.start_family(user.username, version.number, scopes)
        await session.commit()
    return _token_response(request, services, version, rotation)


async def refresh_grant(
    request: Request, version: VersionInfo, params: dict[str, str]
) -> JSONResponse:
    token = params.get("refresh_token")
    if not token:
        raise OAuthError("invalid_request", "The 'refresh_token' parameter is required")
    services = get_auth_services(request)
    narrowed = requested_scopes(params.get("scope"), version)
    async with services.database.sessions() as session:
        refresh = RefreshTokens(session, _refresh_lifetime(services))
        try:
            rotation = await refresh.rotate(token, version.number)
        except RefreshError as error:
            await session.commit()  # a replay revokes the family: keep that
            if error.family_revoked:
                await _revoke_family_access(services, error.family_revoked)
            raise OAuthError("invalid_grant", str(error)) from None
        user = await UserStore(session).get(rotation.username)
        if user is None:
            raise OAuthError("invalid_grant", "The user of this refresh token no longer exists")
        # The grant can shrink when asked, or when the user lost scopes; it never grows (6).
        allowed = set(rotation.scopes) & set(user.scope_list)
        if narrowed is not None and not narrowed <= set(rotation.scopes):
            raise OAuthError("invalid_scope", "A refresh can only keep or narrow the scopes")
        scopes = tuple(sorted(narrowed & allowed if narrowed is not None else allowed))
        await session.commit()
    return _token_response(
        request,
        services,
        version,
        Rotation(user.username, scopes, rotation.family, rotation.refresh_token),
    )


async def _revoke_family_access(services: AuthServices, family: str) -> None:
    # Access tokens of the family live at most one access-token lifetime from now.
    expires = datetime.now(UTC) + services.tokens.lifetime + timedelta(minutes=1)
    await services.revocations.revoke(expires, family=family)


def _token_response(
    request: Request, services: AuthServices, version: VersionInfo, rotation: Rotation
) -> JSONResponse:
    issued = services.tokens.issue(
        rotation.username, audience=version.name, scopes=rotation.scopes, family=rotation.family
    )
    request_facts(request.scope).principal = rotation.username  # a login is that user's call
    body = TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        scope=" ".join(rotation.scopes),
        refresh_token=rotation.refresh_token,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)
