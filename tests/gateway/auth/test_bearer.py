"""Protected routes follow RFC 6750 and RFC 8725 in every version (STANDARDS.md items 9-16)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from gateway import Principal
from gateway.auth.bearer import current_principal, verified_claims
from gateway.observability.request_facts import FACTS_KEY, RequestFacts
from tests.conftest import SECRET, AddUser, bearer, login

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def users(add_user: AddUser) -> None:
    await add_user("alice", scopes=("items:read", "items:write"))
    await add_user("reader", scopes=("items:read",))


def claims(version: int, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "iss": "gateway",
        "sub": "alice",
        "aud": f"apiv{version}",
        "scope": "items:read items:write",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "test",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def forge(version: int, key: str = SECRET, algorithm: str = "HS256", **changes: Any) -> str:
    return jwt.encode(claims(version, **changes), key, algorithm=algorithm)


def challenge(response: httpx.Response) -> str:
    return response.headers["www-authenticate"]


async def test_no_token_is_a_bare_challenge(client: httpx.AsyncClient, version: int) -> None:
    response = await client.get(f"/apiv{version}/users/me")
    assert response.status_code == 401
    assert challenge(response) == f'Bearer realm="apiv{version}"'
    assert "error" not in response.json()


async def test_valid_token(client: httpx.AsyncClient, version: int) -> None:
    token = await login(client, version)
    response = await client.get(f"/apiv{version}/users/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


async def test_forged_claims_with_the_right_key_are_accepted(
    client: httpx.AsyncClient, version: int
) -> None:
    # The control for the refusals below: only the named defect makes them fail.
    response = await client.get(f"/apiv{version}/users/me", headers=bearer(forge(version)))
    assert response.status_code == 200


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


BAD_TOKENS: dict[str, Callable[[int], str]] = {
    "expired": lambda v: forge(
        v, iat=datetime.now(UTC) - timedelta(hours=2), exp=datetime.now(UTC) - timedelta(hours=1)
    ),
    "tampered": lambda v: tampered(forge(v)),
    "malformed": lambda v: "not.a.jwt",
    "garbage": lambda v: "x" * 50,
    "wrong-key": lambda v: forge(v, key="another-key-that-is-long-enough-000000000"),
    "wrong-issuer": lambda v: forge(v, iss="someone-else"),
    "other-version": lambda v: forge(v + 100),
    "no-exp": lambda v: forge(v, exp=None),
    "no-iat": lambda v: forge(v, iat=None),
    "no-iss": lambda v: forge(v, iss=None),
    "no-aud": lambda v: forge(v, aud=None),
    "no-sub": lambda v: forge(v, sub=None),
    "alg-none": lambda v: jwt.encode(claims(v), None, algorithm="none"),
    "hs512": lambda v: forge(v, key=SECRET * 2, algorithm="HS512"),
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_bad_token_is_invalid_token(
    client: httpx.AsyncClient, version: int, kind: str
) -> None:
    response = await client.get(
        f"/apiv{version}/users/me", headers=bearer(BAD_TOKENS[kind](version))
    )
    assert response.status_code == 401
    assert challenge(response).startswith(f'Bearer realm="apiv{version}", error="invalid_token"')
    assert response.json()["error"] == "invalid_token"


async def test_algorithm_confusion_with_a_public_key_is_refused(
    client: httpx.AsyncClient, version: int
) -> None:
    # The classic attack: sign HS256 with a public key the server might pass as the secret.
    # PyJWT refuses to use a PEM key as an HMAC secret, so craft the token by hand.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=")
    token = forge(version).split(".")
    confused = f"{header.decode()}.{token[1]}.{base64.urlsafe_b64encode(pem[:32]).decode()}"
    response = await client.get(f"/apiv{version}/users/me", headers=bearer(confused))
    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)


async def test_small_clock_skew_is_tolerated(client: httpx.AsyncClient, version: int) -> None:
    now = datetime.now(UTC)
    token = forge(version, iat=now + timedelta(seconds=5), exp=now - timedelta(seconds=5))
    response = await client.get(f"/apiv{version}/users/me", headers=bearer(token))
    assert response.status_code == 200


async def test_token_from_another_version_is_refused(
    client: httpx.AsyncClient, versions: list[int]
) -> None:
    tokens = {number: await login(client, number) for number in versions}
    for issued_by, token in tokens.items():
        for used_on in versions:
            response = await client.get(f"/apiv{used_on}/users/me", headers=bearer(token))
            expected = 200 if used_on == issued_by else 401
            assert response.status_code == expected, (issued_by, used_on)
            if expected == 401:
                assert 'error="invalid_token"' in challenge(response)


async def test_missing_scope_is_insufficient_scope(client: httpx.AsyncClient, version: int) -> None:
    token = await login(client, version, username="reader")
    assert (await client.get(f"/apiv{version}/items/", headers=bearer(token))).status_code == 200
    response = await client.post(
        f"/apiv{version}/items/", headers=bearer(token), json={"name": "x", "price": 1}
    )
    assert response.status_code == 403
    assert challenge(response) == (
        f'Bearer realm="apiv{version}", error="insufficient_scope", '
        'error_description="This request needs the scope items:write", scope="items:write"'
    )
    assert response.json()["scope"] == "items:write"


async def test_token_in_the_query_string_is_not_accepted(
    client: httpx.AsyncClient, version: int
) -> None:
    token = await login(client, version)
    response = await client.get(f"/apiv{version}/users/me", params={"access_token": token})
    assert response.status_code == 401
    assert challenge(response) == f'Bearer realm="apiv{version}"'


async def test_other_authorization_schemes_are_no_token(
    client: httpx.AsyncClient, version: int
) -> None:
    response = await client.get(
        f"/apiv{version}/users/me", headers={"Authorization": "Basic YWxpY2U6eA=="}
    )
    assert response.status_code == 401
    assert challenge(response) == f'Bearer realm="apiv{version}"'


async def test_token_of_a_removed_user_is_refused(client: httpx.AsyncClient, version: int) -> None:
    token = forge(version, sub="ghost")
    response = await client.get(f"/apiv{version}/users/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "bearer", "Token abc"])
async def test_an_empty_or_other_bearer_header_is_no_token(
    client: httpx.AsyncClient, version: int, header: str
) -> None:
    response = await client.get(f"/apiv{version}/users/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert challenge(response) == f'Bearer realm="apiv{version}"'


async def test_the_scheme_name_is_case_insensitive(client: httpx.AsyncClient, version: int) -> None:
    token = await login(client, version)
    response = await client.get(
        f"/apiv{version}/users/me", headers={"Authorization": f"bEaReR {token}"}
    )
    assert response.status_code == 200


async def test_a_test_can_override_the_principal(
    app: FastAPI, client: httpx.AsyncClient, version: int
) -> None:
    app.dependency_overrides[current_principal] = lambda: Principal("alice", frozenset())
    try:
        response = await client.get(f"/apiv{version}/users/me")
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 200
    assert response.json()["username"] == "alice"  # and no token was sent


async def test_the_token_is_verified_once_per_request_for_the_called_version(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A derived version's request reaches its successor's route with the facts of the request:
    # the version the client called, and the claims once they are verified.
    services = app.state.gateway
    verified: list[str] = []
    verify = services.tokens.verify

    def counted(token: str, audience: str) -> Any:
        verified.append(audience)
        return verify(token, audience=audience)

    monkeypatch.setattr(services.tokens, "verify", counted)
    token = await login(client, 1)
    facts = RequestFacts(version=1)
    scope = {"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]}
    scope |= {"app": app, FACTS_KEY: facts}
    first = await verified_claims(scope, services)
    again = await verified_claims({**scope, "app": None}, services)  # another app, same facts
    assert first is again
    assert verified == ["apiv1"]
    assert facts.principal == "alice"
    assert facts.counted
