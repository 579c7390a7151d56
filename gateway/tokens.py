"""Access tokens: JWTs issued and verified with PyJWT. Pure functions of their inputs; no HTTP.

Every token names its version as the audience (``apiv<N>``), so a token issued by one version's
token route is refused by every other version (RFC 8725 3.9). Decoding pins the algorithm list and
requires every registered claim the gateway relies on (RFC 8725 2.1, 3.1, 3.8).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


class TokenError(Exception):
    """The token cannot be accepted; the message is safe to show to the client."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    audience: str
    scopes: frozenset[str]
    expires_at: int
    token_id: str | None


class Tokens:
    """Issues and verifies the gateway's access tokens with one signing key."""

    def __init__(
        self,
        key: str,
        *,
        algorithm: str = "HS256",
        issuer: str = "gateway",
        lifetime: timedelta = timedelta(minutes=30),
        leeway: timedelta = timedelta(seconds=10),
    ) -> None:
        self._key = key
        self._algorithm = algorithm
        self.issuer = issuer
        self.lifetime = lifetime
        self._leeway = leeway

    def issue(self, subject: str, audience: str, scopes: tuple[str, ...]) -> IssuedToken:
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + self.lifetime,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._key, algorithm=self._algorithm)
        return IssuedToken(token, int(self.lifetime.total_seconds()), scopes)

    def verify(self, token: str, audience: str) -> Claims:
        """Return the token's claims, or raise ``TokenError`` saying why it is refused."""
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                audience=audience,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("The access token expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError(f"The access token was not issued for {audience}") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenError(f"The access token lacks the {error.claim!r} claim") from None
        except jwt.InvalidTokenError:
            raise TokenError("The access token is malformed or its signature is invalid") from None
        subject, scope = payload["sub"], payload.get("scope", "")
        if not isinstance(subject, str) or not subject or not isinstance(scope, str):
            raise TokenError("The access token's subject or scope is malformed")
        return Claims(
            subject=subject,
            audience=audience,
            scopes=frozenset(scope.split()),
            expires_at=int(payload["exp"]),
            token_id=payload.get("jti"),
        )
