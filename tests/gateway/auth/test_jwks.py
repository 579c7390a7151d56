"""``/apiv<N>/.well-known/jwks.json`` publishes the public keys, never an HMAC secret, and a
client holding only that set can verify the gateway's tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI

from gateway import Settings, create_app
from gateway.auth.jwks import JWKS_MAX_AGE
from gateway.auth.users import UserStore
from tests.conftest import PASSWORD, bearer, client_for, login
from tests.gateway.auth.test_signing_key import rsa_key, write_private, write_public

pytestmark = pytest.mark.anyio

PRIVATE_FIELDS = {"d", "p", "q", "dp", "dq", "qi", "k"}
StartGateway = Callable[[dict[str, Any]], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def key_files(tmp_path: Path) -> dict[str, str]:
    ed = ed25519.Ed25519PrivateKey.generate()
    return {
        "rsa": str(write_private(tmp_path / "rsa.pem", rsa_key())),
        "ed": str(write_private(tmp_path / "ed.pem", ed)),
        "ed_public": str(write_public(tmp_path / "ed.pub.pem", ed)),
    }


def mixed_auth(key_files: dict[str, str], active: str) -> dict[str, Any]:
    return {
        "secret_key": None,
        "active_kid": active,
        "keys": [
            {"kid": "hmac-1", "secret": "h" * 40},
            {"kid": "rsa-1", "algorithm": "RS256", "private_key_file": key_files["rsa"]},
            {"kid": "ed-1", "algorithm": "EdDSA", "private_key_file": key_files["ed"]},
            {"kid": "ed-old", "algorithm": "EdDSA", "public_key_file": key_files["ed_public"]},
        ],
    }


@pytest.fixture
async def gateway_for(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[StartGateway]:
    """Build and start a gateway with these auth settings, with alice as a user."""
    async with AsyncExitStack() as stack:

        async def start(auth: dict[str, Any]) -> httpx.AsyncClient:
            gateway: FastAPI = create_app(make_settings(auth=auth))
            await stack.enter_async_context(gateway.router.lifespan_context(gateway))
            services = gateway.state.gateway
            async with services.database.sessions() as session:
                if not await UserStore(session).get("alice"):
                    password_hash = await services.passwords.hash(PASSWORD)
                    await UserStore(session).add("alice", password_hash, ("items:read",))
                    await session.commit()
            return await stack.enter_async_context(client_for(gateway))

        yield start


async def test_hmac_keys_only_give_an_empty_set(
    client: httpx.AsyncClient, versions: list[int]
) -> None:
    for version in versions:
        response = await client.get(f"/apiv{version}/.well-known/jwks.json")
        assert response.status_code == 200
        assert response.json() == {"keys": []}
        assert response.headers["cache-control"] == f"public, max-age={JWKS_MAX_AGE}"
        assert response.headers["content-type"] == "application/json"


async def test_public_keys_are_listed_and_secrets_never(
    gateway_for: StartGateway, key_files: dict[str, str], versions: list[int]
) -> None:
    client = await gateway_for(mixed_auth(key_files, "rsa-1"))
    for version in versions:
        keys = (await client.get(f"/apiv{version}/.well-known/jwks.json")).json()["keys"]
        assert [(k["kid"], k["kty"], k["alg"], k["use"]) for k in keys] == [
            ("rsa-1", "RSA", "RS256", "sig"),
            ("ed-1", "OKP", "EdDSA", "sig"),
            ("ed-old", "OKP", "EdDSA", "sig"),
        ]
        assert all(PRIVATE_FIELDS.isdisjoint(key) for key in keys)
        assert "h" * 40 not in json.dumps(keys)
        assert base64.urlsafe_b64encode(b"h" * 40).decode().rstrip("=") not in json.dumps(keys)
    # The same public key under two kids gives the same material.
    assert keys[1]["x"] == keys[2]["x"]


async def test_jwks_is_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/apiv1/openapi.json")).json()["paths"]
    assert not any("well-known" in path for path in paths)


@pytest.mark.parametrize("active", ["rsa-1", "ed-1"])
async def test_a_client_verifies_gateway_tokens_with_the_jwks_alone(
    gateway_for: StartGateway, key_files: dict[str, str], active: str
) -> None:
    client = await gateway_for(mixed_auth(key_files, active))
    token = await login(client, 1)
    # What jwt.PyJWKClient does, without the network: pick the key by the token's kid.
    published = jwt.PyJWKSet.from_dict((await client.get("/apiv1/.well-known/jwks.json")).json())
    key = published[jwt.get_unverified_header(token)["kid"]]
    assert key.key_id == active
    claims = jwt.decode(
        token, key, algorithms=[key.algorithm_name], audience="apiv1", issuer="gateway"
    )
    assert claims["sub"] == "alice"
    assert (await client.get("/apiv1/users/me", headers=bearer(token))).status_code == 200


async def test_the_published_public_key_as_an_hmac_secret_is_refused(
    gateway_for: StartGateway, key_files: dict[str, str]
) -> None:
    # The attacker's view: only the JWKS. Turn the RSA key into PEM and sign HS256 with it.
    client = await gateway_for(mixed_auth(key_files, "rsa-1"))
    genuine = await login(client, 1)
    published = jwt.PyJWKSet.from_dict((await client.get("/apiv1/.well-known/jwks.json")).json())
    pem = published["rsa-1"].key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload_segment = genuine.split(".")[1]
    forged_header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode()
    ).rstrip(b"=")
    signing_input = forged_header + b"." + payload_segment.encode()
    signature = base64.urlsafe_b64encode(
        hmac.new(pem, signing_input, hashlib.sha256).digest()
    ).rstrip(b"=")
    forged = (signing_input + b"." + signature).decode()
    response = await client.get("/apiv1/users/me", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    # ...and an HS256 token genuinely signed by the gateway's HMAC key, relabelled as rsa-1.
    relabelled = jwt.encode(
        jwt.decode(genuine, options={"verify_signature": False}),
        "h" * 40,
        algorithm="HS256",
        headers={"kid": "rsa-1"},
    )
    response = await client.get("/apiv1/users/me", headers=bearer(relabelled))
    assert response.status_code == 401
