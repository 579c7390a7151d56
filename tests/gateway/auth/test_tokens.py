"""Tokens with key ids: the active key signs and names itself in the header, every configured key
verifies, a token's ``kid`` picks the key and the key alone picks the algorithm (RFC 8725 2.1,
3.1), and keys rotate without refusing the tokens the previous key signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from gateway import Settings, create_app
from gateway.auth.tokens import (
    SigningKey,
    Tokens,
    asymmetric_key,
    derive_kid,
    hmac_key,
)
from gateway.errors import KeyMaterialError, TokenError
from tests.conftest import AddUser, bearer, client_for, login
from tests.gateway.auth.test_signing_key import rsa_key, write_private, write_public

OLD = "old-signing-key-0123456789-abcdefghijklmnop"
NEW = "new-signing-key-0123456789-abcdefghijklmnop"
UNKNOWN = "The access token was not signed by a key this gateway trusts"
MALFORMED = "The access token is malformed or its signature is invalid"


def rsa_signing_key(kid: str = "rsa") -> SigningKey:
    return asymmetric_key(kid, "RS256", private_key=rsa_key())


def header(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(audience: str = "apiv1") -> dict[str, Any]:
    now = int(time.time())
    return {"iss": "gateway", "sub": "mallory", "aud": audience, "iat": now, "exp": now + 60}


def hs256_by_hand(head: dict[str, Any], secret: bytes) -> str:
    """An HS256 token with any secret: PyJWT refuses to use a PEM key as an HMAC secret."""
    signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims()).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.mark.parametrize(
    "make",
    [
        lambda: hmac_key(OLD),
        lambda: hmac_key("h" * 48, "HS384", kid="h384"),
        lambda: hmac_key("h" * 64, "HS512", kid="h512"),
        lambda: rsa_signing_key(),
        lambda: asymmetric_key("ed", "EdDSA", private_key=ed25519.Ed25519PrivateKey.generate()),
    ],
    ids=["HS256", "HS384", "HS512", "RS256", "EdDSA"],
)
def test_issued_tokens_name_their_key_and_verify(make: Callable[[], SigningKey]) -> None:
    key = make()
    tokens = Tokens([key])
    issued = tokens.issue("alice", "apiv1", ("items:read",))
    assert header(issued.access_token) == {"alg": key.algorithm, "kid": key.kid, "typ": "JWT"}
    verified = tokens.verify(issued.access_token, "apiv1")
    assert (verified.subject, verified.scopes) == ("alice", frozenset({"items:read"}))


def test_the_simple_forms_kid_is_a_hash_not_the_key() -> None:
    key = hmac_key(OLD)
    assert key.kid == derive_kid(OLD.encode()) == hmac_key(OLD).kid
    assert key.kid != hmac_key(NEW).kid
    assert OLD not in key.kid
    assert OLD not in repr(key)  # nor in a log line that prints the key


def test_rotation_keeps_old_tokens_until_the_old_key_is_removed() -> None:
    before = Tokens([hmac_key(OLD, kid="2024")])
    old_token = before.issue("alice", "apiv1", ()).access_token

    during = Tokens([hmac_key(OLD, kid="2024"), hmac_key(NEW, kid="2025")], active_kid="2025")
    assert during.verify(old_token, "apiv1").subject == "alice"
    new_token = during.issue("bob", "apiv1", ()).access_token
    assert header(new_token)["kid"] == "2025"

    after = Tokens([hmac_key(NEW, kid="2025")])
    assert after.verify(new_token, "apiv1").subject == "bob"
    with pytest.raises(TokenError, match=UNKNOWN):
        after.verify(old_token, "apiv1")


def test_rotation_from_hmac_to_rsa_with_a_verify_only_key() -> None:
    rsa_tokens = Tokens([rsa_signing_key("r1")])
    rsa_token = rsa_tokens.issue("alice", "apiv1", ()).access_token
    public_only = asymmetric_key("r1", "RS256", public_key=rsa_key().public_key())
    assert public_only.signer is None
    tokens = Tokens([hmac_key(NEW, kid="h1"), public_only])
    assert tokens.verify(rsa_token, "apiv1").subject == "alice"
    with pytest.raises(ValueError, match="'r1' has no private key and cannot sign"):
        Tokens([public_only])


def test_a_token_without_kid_is_accepted_only_with_a_single_key() -> None:
    # Tokens issued before keys had ids: unambiguous with one key, refused with several.
    legacy = jwt.encode(claims(), OLD, algorithm="HS256")
    assert Tokens([hmac_key(OLD)]).verify(legacy, "apiv1").subject == "mallory"
    with pytest.raises(TokenError, match=UNKNOWN):
        Tokens([hmac_key(OLD, kid="a"), hmac_key(NEW, kid="b")]).verify(legacy, "apiv1")


@pytest.mark.parametrize("kid", ["nobody", 7, ["a"], {"a": 1}])
def test_an_unknown_or_odd_kid_is_refused(kid: object) -> None:
    token = jwt.encode(claims(), OLD, algorithm="HS256", headers={"kid": "a"})
    rest = token.split(".", 1)[1]
    forged = f"{b64(json.dumps({'alg': 'HS256', 'kid': kid}).encode())}.{rest}"
    with pytest.raises(TokenError, match=UNKNOWN):
        Tokens([hmac_key(OLD, kid="a")]).verify(forged, "apiv1")


@pytest.mark.parametrize("token", ["", "x" * 40, "not.a.jwt", "!!!.e30.", "bnVsbA.e30.", "e30"])
def test_malformed_headers_are_refused(token: str) -> None:
    with pytest.raises(TokenError) as raised:
        Tokens([hmac_key(OLD), hmac_key(NEW, kid="b")]).verify(token, "apiv1")
    assert str(raised.value) in {MALFORMED, UNKNOWN}


def test_alg_none_is_refused_with_or_without_kid() -> None:
    tokens = Tokens([hmac_key(OLD, kid="a")])
    for headers in (None, {"kid": "a"}):
        unsigned = jwt.encode(claims(), None, algorithm="none", headers=headers)
        with pytest.raises(TokenError, match=MALFORMED):
            tokens.verify(unsigned, "apiv1")


def test_hmac_signed_with_the_rsa_public_key_is_refused() -> None:
    # The classic confusion: the attacker takes the published public key as an HMAC secret.
    key = rsa_signing_key("r1")
    tokens = Tokens([key, hmac_key(OLD, kid="h1")])
    pem = (
        rsa_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for secret in (pem, pem.strip()):
        forged = hs256_by_hand({"alg": "HS256", "typ": "JWT", "kid": "r1"}, secret)
        with pytest.raises(TokenError, match=MALFORMED):
            tokens.verify(forged, "apiv1")


def test_an_hs256_token_presented_against_an_rs256_kid_is_refused() -> None:
    tokens = Tokens([hmac_key(OLD, kid="h1"), rsa_signing_key("r1")])
    genuine = jwt.encode(claims(), OLD, algorithm="HS256", headers={"kid": "h1"})
    assert tokens.verify(genuine, "apiv1").subject == "mallory"
    relabelled = jwt.encode(claims(), OLD, algorithm="HS256", headers={"kid": "r1"})
    with pytest.raises(TokenError, match=MALFORMED):
        tokens.verify(relabelled, "apiv1")
    # ...and the other way round: an RSA signature under the HMAC key's kid.
    rsa_pem = rsa_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    other_way = jwt.encode(claims(), rsa_pem, algorithm="RS256", headers={"kid": "h1"})
    with pytest.raises(TokenError, match=MALFORMED):
        tokens.verify(other_way, "apiv1")


def test_the_usual_checks_still_apply_with_kids() -> None:
    tokens = Tokens([rsa_signing_key("r1")])
    token = tokens.issue("alice", "apiv1", ()).access_token
    with pytest.raises(TokenError, match="The access token was not issued for apiv2"):
        tokens.verify(token, "apiv2")
    other_issuer = Tokens([rsa_signing_key("r1")], issuer="elsewhere")
    with pytest.raises(TokenError, match=MALFORMED):
        other_issuer.verify(token, "apiv1")
    no_sub = {k: v for k, v in claims().items() if k != "sub"}
    unsigned_sub = jwt.encode(no_sub, OLD, algorithm="HS256", headers={"kid": "h"})
    with pytest.raises(TokenError, match="lacks the 'sub' claim"):
        Tokens([hmac_key(OLD, kid="h")]).verify(unsigned_sub, "apiv1")
    expired = {**claims(), "iat": int(time.time()) - 600, "exp": int(time.time()) - 300}
    with pytest.raises(TokenError, match="expired"):
        Tokens([hmac_key(OLD, kid="h")]).verify(
            jwt.encode(expired, OLD, algorithm="HS256", headers={"kid": "h"}), "apiv1"
        )


def test_unusable_key_material_is_refused() -> None:
    with pytest.raises(KeyMaterialError, match="asymmetric key"):
        hmac_key(
            rsa_key()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
    with pytest.raises(KeyMaterialError, match="below the minimum recommended length of 32"):
        hmac_key("short")
    with pytest.raises(KeyMaterialError, match="not a pair"):
        asymmetric_key(
            "r",
            "RS256",
            private_key=rsa_key(),
            public_key=rsa.generate_private_key(65537, 2048).public_key(),
        )
    with pytest.raises(KeyMaterialError, match="takes a secret"):
        asymmetric_key("h", "HS256", private_key=rsa_key())
    with pytest.raises(ValueError, match="distinct kids"):
        Tokens([hmac_key(OLD, kid="a"), hmac_key(NEW, kid="a")])


# Through the gateway: a restart with a rotated key list.


def auth_with(*keys: dict[str, Any], active: str | None = None) -> dict[str, Any]:
    return {"secret_key": None, "keys": list(keys), "active_kid": active}


@pytest.mark.anyio
async def test_rotation_through_restarts(
    make_settings: Callable[..., Settings], add_user: AddUser, tmp_path: Path
) -> None:
    await add_user("alice")  # in the database every gateway below shares
    old = {"kid": "2024", "secret": OLD}
    new_rsa = {
        "kid": "2025",
        "algorithm": "RS256",
        "private_key_file": str(write_private(tmp_path / "2025.pem", rsa_key())),
    }

    async def run(auth: dict[str, Any], token: str | None = None) -> tuple[str, int | None]:
        gateway = create_app(make_settings(auth=auth))
        async with gateway.router.lifespan_context(gateway), client_for(gateway) as client:
            status = None
            if token is not None:
                status = (await client.get("/apiv1/users/me", headers=bearer(token))).status_code
            return await login(client, 1), status

    old_token, _ = await run(auth_with(old))
    assert header(old_token)["kid"] == "2024"
    new_token, old_status = await run(auth_with(old, new_rsa, active="2025"), old_token)
    assert old_status == 200  # signed by the old key, now verify-only: still valid
    assert header(new_token) == {"alg": "RS256", "kid": "2025", "typ": "JWT"}
    _, removed_status = await run(auth_with(new_rsa), old_token)
    assert removed_status == 401  # its key was removed
    # A verify-only public key file is enough to keep accepting the RSA-signed tokens.
    verify_only = {
        "kid": "2025",
        "algorithm": "RS256",
        "public_key_file": str(write_public(tmp_path / "2025.pub.pem", rsa_key())),
    }
    _, status = await run(auth_with({"kid": "2026", "secret": NEW}, verify_only), new_token)
    assert status == 200


def test_a_cached_token_still_expires() -> None:
    tokens = Tokens(
        [hmac_key("e" * 40)], lifetime=timedelta(seconds=1), leeway=timedelta(seconds=0)
    )
    token = tokens.issue("alice", "apiv1", ()).access_token
    assert tokens.verify(token, "apiv1").subject == "alice"
    assert tokens.verify(token, "apiv1").subject == "alice"  # now from the cache
    time.sleep(1.1)
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(token, "apiv1")


def test_a_cached_token_keeps_its_audience() -> None:
    tokens = Tokens([hmac_key("e" * 40)])
    token = tokens.issue("alice", "apiv1", ()).access_token
    tokens.verify(token, "apiv1")
    with pytest.raises(TokenError, match="not issued for apiv2"):
        tokens.verify(token, "apiv2")


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.auth.tokens.VERIFIED_CACHE_SIZE", 3)
    tokens = Tokens([hmac_key("e" * 40)])
    issued = [tokens.issue(f"user{n}", "apiv1", ()).access_token for n in range(5)]
    for token in issued:
        tokens.verify(token, "apiv1")
    assert len(tokens._verified) == 3
    assert list(tokens._verified) == issued[2:]


@pytest.mark.anyio
async def test_a_cached_token_is_refused_once_revoked(
    client: httpx.AsyncClient, add_user: AddUser
) -> None:
    await add_user("alice")
    token = await login(client, 2)
    assert (await client.get("/apiv2/users/me", headers=bearer(token))).status_code == 200
    assert (await client.post("/apiv2/revoke", data={"token": token})).status_code == 200
    response = await client.get("/apiv2/users/me", headers=bearer(token))
    assert response.status_code == 401
    assert "revoked" in response.headers["www-authenticate"]
