"""Access tokens: JWTs issued and verified with PyJWT. Pure functions of their inputs; no HTTP.

Every token names its version as the audience (``apiv<N>``), so a token issued by one version's
token route is refused by every other version (RFC 8725 3.9). Decoding requires every registered
claim the gateway relies on (RFC 8725 3.8).

Keys have ids. The active key signs and writes its ``kid`` in the token's header; every configured
key verifies, so after a rotation the tokens the previous key signed stay valid until they expire.
A token's ``kid`` picks the key, and the key alone picks the algorithm: the header's ``alg`` is
never trusted, so ``alg: none`` and HMAC-with-a-public-key forgeries fail (RFC 8725 2.1, 3.1).
Keys are prepared once, when ``Tokens`` is built, never per request.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from jwt.algorithms import AllowedPrivateKeys, get_default_algorithms

from gateway.errors import KeyMaterialError, TokenError

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
MALFORMED = "The access token is malformed or its signature is invalid"
# The cryptography key classes each asymmetric algorithm signs with, and how to name them.
_KEY_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "RS256": ((rsa.RSAPrivateKey, rsa.RSAPublicKey), "an RSA key"),
    "EdDSA": (
        (
            ed25519.Ed25519PrivateKey,
            ed25519.Ed25519PublicKey,
            ed448.Ed448PrivateKey,
            ed448.Ed448PublicKey,
        ),
        "an Ed25519 or Ed448 key",
    ),
}


# Verified tokens kept in memory: enough for every active client of one busy instance.
VERIFIED_CACHE_SIZE = 10_000


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
    # The refresh-token family the token came from: revoking the family revokes it too.
    family: str | None = None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One configured key, prepared for PyJWT: build it with ``hmac_key`` or ``asymmetric_key``."""

    kid: str
    algorithm: str
    # Bound to ``algorithm``: PyJWT refuses a token whose header names another one.
    verifier: jwt.PyJWK = field(repr=False)
    # The HMAC secret or the private key; ``None`` for a key that only verifies.
    signer: bytes | AllowedPrivateKeys | None = field(repr=False)
    # What the JWKS publishes; ``None`` for an HMAC secret, which must never be published.
    public_jwk: Mapping[str, str] | None = None


def derive_kid(secret: bytes) -> str:
    """A stable id for a key configured without one: 16 characters of a SHA-256 of the secret.

    It is the same in every worker and after a restart, and changes with the key. It reveals
    nothing a token does not: any token signed with the key already lets one test guesses of it.
    """
    digest = hashlib.sha256(b"gateway kid\x00" + secret).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def hmac_key(secret: str, algorithm: str = "HS256", kid: str | None = None) -> SigningKey:
    """An HMAC key (HS256, HS384, HS512) that signs and verifies; ``kid`` defaults to a hash."""
    material = secret.encode()
    prepared = _prepare(algorithm, material)
    jwk = {"kty": "oct", "k": _b64(material), "alg": algorithm}
    return SigningKey(
        kid=kid or derive_kid(material),
        algorithm=algorithm,
        verifier=jwt.PyJWK(jwk, algorithm),
        signer=prepared,
    )


def asymmetric_key(
    kid: str,
    algorithm: str,
    *,
    private_key: PrivateKeyTypes | None = None,
    public_key: PublicKeyTypes | None = None,
) -> SigningKey:
    """An RS256 or EdDSA key: it signs only with ``private_key``; either key is enough to verify."""
    if private_key is not None:
        check_key_type(private_key, algorithm)
        derived = private_key.public_key()
        if public_key is not None and _spki(public_key) != _spki(derived):
            raise KeyMaterialError("the private and the public key are not a pair")
        public_key = derived
    if public_key is None:
        raise KeyMaterialError(f"{algorithm} needs a private key to sign or a public key to verify")
    check_key_type(public_key, algorithm)
    jwk: dict[str, str] = get_default_algorithms()[algorithm].to_jwk(public_key, as_dict=True)
    jwk.pop("key_ops", None)  # RFC 7517 4.3: not together with "use"
    jwk |= {"kid": kid, "alg": algorithm, "use": "sig"}
    return SigningKey(
        kid=kid,
        algorithm=algorithm,
        verifier=jwt.PyJWK(jwk, algorithm),
        # check_key_type made sure it is one of the key types PyJWT signs with
        signer=cast("AllowedPrivateKeys | None", private_key),
        public_jwk=jwk,
    )


def check_key_type(key: PrivateKeyTypes | PublicKeyTypes, algorithm: str) -> None:
    """Raise ``KeyMaterialError`` unless ``algorithm`` can use ``key`` (type and size)."""
    if algorithm not in _KEY_TYPES:
        raise KeyMaterialError(f"{algorithm} takes a secret, not a public or private key")
    types, wanted = _KEY_TYPES[algorithm]
    if not isinstance(key, types):
        raise KeyMaterialError(f"{type(key).__name__} given, but {algorithm} needs {wanted}")
    _prepare(algorithm, key)


def _prepare(algorithm: str, key: Any) -> Any:
    # PyJWT's own checks, run once here rather than as warnings on every token: a too short
    # HMAC secret or RSA key, and a PEM or certificate offered as an HMAC secret.
    implementation = get_default_algorithms()[algorithm]
    try:
        prepared = implementation.prepare_key(key)
    except jwt.InvalidKeyError as error:
        raise KeyMaterialError(str(error)) from None
    problem = implementation.check_key_length(prepared)
    if problem:
        raise KeyMaterialError(problem)
    return prepared


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Tokens:
    """Issues tokens with the active key and verifies them with any configured key."""

    def __init__(
        self,
        keys: Sequence[SigningKey],
        *,
        active_kid: str | None = None,
        issuer: str = "gateway",
        lifetime: timedelta = timedelta(minutes=30),
        leeway: timedelta = timedelta(seconds=10),
    ) -> None:
        self._keys = {key.kid: key for key in keys}
        if not keys or len(self._keys) != len(keys):
            raise ValueError("Tokens needs at least one key, and distinct kids")
        self.active = self._keys[active_kid] if active_kid is not None else keys[0]
        if self.active.signer is None:
            raise ValueError(f"key {self.active.kid!r} has no private key and cannot sign")
        # Tokens issued before keys had ids carry no kid: with a single key they can only be
        # that key's, so they stay valid; with several, a token must say which one it is.
        self._unnamed = keys[0] if len(keys) == 1 else None
        self.issuer = issuer
        self.lifetime = lifetime
        self._leeway = leeway
        self._leeway_seconds = leeway.total_seconds()
        # Verified tokens by their exact text: a client sends the same token again and again,
        # and a full verify (base64, JSON, HMAC, claim checks) costs more than the rest of a
        # request. An entry is used only until the token's own expiry; revocation is checked
        # by the caller on every request, cached or not.
        self._verified: dict[str, Claims] = {}
        self.jwks: dict[str, list[dict[str, str]]] = {
            "keys": [dict(key.public_jwk) for key in keys if key.public_jwk is not None]
        }

    def issue(
        self, subject: str, audience: str, scopes: tuple[str, ...], family: str | None = None
    ) -> IssuedToken:
        now = datetime.now(UTC)
        claims: dict[str, object] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + self.lifetime,
            "jti": uuid.uuid4().hex,
        }
        if family is not None:
            claims["fam"] = family
        key = self.active
        assert key.signer is not None  # checked in __init__
        token = jwt.encode(claims, key.signer, algorithm=key.algorithm, headers={"kid": key.kid})
        return IssuedToken(token, int(self.lifetime.total_seconds()), scopes)

    def verify(self, token: str, audience: str) -> Claims:
        """Return the token's claims, or raise ``TokenError`` saying why it is refused."""
        cached = self._verified.get(token)
        if (
            cached is not None
            and cached.audience == audience
            and time.time() < cached.expires_at + self._leeway_seconds
        ):
            return cached
        claims = self._verify(token, audience)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            # Forget the oldest entry: a dict keeps insertion order.
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return claims

    def _verify(self, token: str, audience: str) -> Claims:
        key = self._key_for(token)
        try:
            payload = jwt.decode(
                token,
                key.verifier,
                algorithms=[key.algorithm],
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
            raise TokenError(MALFORMED) from None
        subject, scope = payload["sub"], payload.get("scope", "")
        if not isinstance(subject, str) or not subject or not isinstance(scope, str):
            raise TokenError("The access token's subject or scope is malformed")
        return Claims(
            subject=subject,
            audience=audience,
            scopes=frozenset(scope.split()),
            expires_at=int(payload["exp"]),
            token_id=payload.get("jti"),
            family=payload.get("fam"),
        )

    def _key_for(self, token: str) -> SigningKey:
        kid = _header_kid(token.partition(".")[0])
        if kid is None and self._unnamed is not None:
            return self._unnamed
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenError("The access token was not signed by a key this gateway trusts")
        return key


# Every token one key signs has the same header segment, so a few cached entries answer almost
# every request. The header alone is read: jwt.get_unverified_header would decode (and validate)
# the whole token, which jwt.decode does anyway, strictly, right after.
@functools.lru_cache(maxsize=64)
def _header_kid(segment: str) -> object:
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError):  # binascii.Error and JSONDecodeError included
        raise TokenError(MALFORMED) from None
    return header.get("kid") if isinstance(header, dict) else None
