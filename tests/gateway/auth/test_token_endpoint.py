"""``POST /apiv<N>/token`` follows RFC 6749 in every version (STANDARDS.md items 1-7, 17)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import anyio
import httpx
import jwt
import pytest
from fastapi import FastAPI
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from gateway import Settings
from gateway.auth.users import UserStore
from gateway.services import Services
from tests.conftest import PASSWORD, SECRET, AddUser

pytestmark = pytest.mark.anyio
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def form(**params: str) -> dict[str, str]:
    return {"grant_type": "password", "username": "alice", "password": PASSWORD, **params}


def assert_no_store(response: httpx.Response) -> None:
    assert {key: response.headers.get(key) for key in NO_STORE} == NO_STORE


def assert_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert_no_store(response)


@pytest.fixture(autouse=True)
async def alice(add_user: AddUser) -> None:
    await add_user("alice", scopes=("items:read", "items:write"))
    await add_user("reader", scopes=("items:read",))


async def test_success(client: httpx.AsyncClient, version: int) -> None:
    response = await client.post(f"/apiv{version}/token", data=form())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"].lower() == "bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] == 30 * 60
    assert body["scope"] == "items:read items:write"
    assert_no_store(response)
    claims = jwt.decode(
        body["access_token"], SECRET, algorithms=["HS256"], audience=f"apiv{version}"
    )
    assert claims["iss"] == "gateway"
    assert claims["sub"] == "alice"
    assert {"exp", "iat", "jti"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 30 * 60


async def test_requested_scope_is_narrowed_to_the_users_grant(
    client: httpx.AsyncClient, version: int
) -> None:
    response = await client.post(
        f"/apiv{version}/token",
        data=form(username="reader", scope="items:read items:write"),
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "items:read"  # differs from the request, so it is stated


async def test_requested_subset_of_scopes(client: httpx.AsyncClient, version: int) -> None:
    response = await client.post(f"/apiv{version}/token", data=form(scope="items:read"))
    assert response.json()["scope"] == "items:read"


async def test_wrong_password_and_unknown_user_are_indistinguishable(
    client: httpx.AsyncClient, version: int
) -> None:
    wrong = await client.post(f"/apiv{version}/token", data=form(password="not the password"))
    unknown = await client.post(f"/apiv{version}/token", data=form(username="mallory"))
    assert_error(wrong, 400, "invalid_grant")
    assert_error(unknown, 400, "invalid_grant")
    assert wrong.content == unknown.content
    ignored = {"date": "", "x-request-id": ""}
    assert dict(wrong.headers) | ignored == dict(unknown.headers) | ignored


async def test_unknown_user_costs_a_full_password_check(client: httpx.AsyncClient) -> None:
    async def duration(**params: str) -> float:
        start = time.perf_counter()
        await client.post("/apiv1/token", data=form(**params))
        return time.perf_counter() - start

    # Alternate the two, take the medians: a missing dummy verify would make unknown ~0.
    known, unknown = [], []
    for _ in range(3):
        known.append(await duration(password="not the password"))
        unknown.append(await duration(username="mallory"))
    ratio = sorted(unknown)[1] / sorted(known)[1]
    assert 0.5 < ratio < 2, (known, unknown)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (json.dumps(form()), "application/json"),
        ("grant_type=password&username=alice&password=x", "text/plain"),
        ("grant_type=password&username=alice&password=x", None),
    ],
    ids=["json", "text", "no-content-type"],
)
async def test_body_must_be_form_encoded(
    client: httpx.AsyncClient, version: int, content: str, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(f"/apiv{version}/token", content=content, headers=headers)
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("missing", ["grant_type", "username", "password"])
async def test_missing_parameter(client: httpx.AsyncClient, version: int, missing: str) -> None:
    data = form()
    del data[missing]
    response = await client.post(f"/apiv{version}/token", data=data)
    assert_error(response, 400, "invalid_request")
    assert response.status_code != 422


async def test_repeated_parameter(client: httpx.AsyncClient, version: int) -> None:
    body = "grant_type=password&username=alice&username=bob&password=" + PASSWORD
    response = await client.post(
        f"/apiv{version}/token",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "invalid_request")
    assert "username" in response.json()["error_description"]


async def test_other_grant_type(client: httpx.AsyncClient, version: int) -> None:
    response = await client.post(
        f"/apiv{version}/token", data=form(grant_type="client_credentials")
    )
    assert_error(response, 400, "unsupported_grant_type")


async def test_unknown_scope(client: httpx.AsyncClient, version: int) -> None:
    response = await client.post(f"/apiv{version}/token", data=form(scope="items:read admin"))
    assert_error(response, 400, "invalid_scope")
    assert "admin" in response.json()["error_description"]


@pytest.mark.parametrize("client_id", ["", "swagger", "my%20app"])
async def test_basic_client_auth_with_empty_secret_is_accepted(
    client: httpx.AsyncClient, version: int, client_id: str
) -> None:
    basic = base64.b64encode(f"{client_id}:".encode()).decode()
    response = await client.post(
        f"/apiv{version}/token", data=form(), headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "authorization", ["Basic not-base64!", "Basic " + base64.b64encode(b"nocolon").decode()]
)
async def test_malformed_client_credentials(
    client: httpx.AsyncClient, version: int, authorization: str
) -> None:
    response = await client.post(
        f"/apiv{version}/token", data=form(), headers={"Authorization": authorization}
    )
    assert_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == f'Basic realm="apiv{version}"'


async def test_get_is_405_and_charset_and_unknown_parameters_are_fine(
    client: httpx.AsyncClient, version: int
) -> None:
    response = await client.get(f"/apiv{version}/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert_no_store(response)
    response = await client.post(
        f"/apiv{version}/token",
        content=httpx.QueryParams(form(colour="blue")).__str__(),
        headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "old_hasher",
    [
        Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),  # weaker
        Argon2Hasher(),  # argon2-cffi's four lanes, as earlier releases stored
    ],
    ids=["weaker", "four-lanes"],
)
async def test_old_hash_is_upgraded_at_login(
    app: FastAPI, client: httpx.AsyncClient, old_hasher: Argon2Hasher
) -> None:
    services: Services = app.state.gateway
    async with services.database.sessions() as session:
        old_hash = PasswordHash((old_hasher,)).hash(PASSWORD)
        await UserStore(session).add("old", old_hash, ["items:read"])
        await session.commit()
    assert (await client.post("/apiv1/token", data=form(username="old"))).status_code == 200
    async with services.database.sessions() as session:
        user = await UserStore(session).get("old")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    assert (await client.post("/apiv1/token", data=form(username="old"))).status_code == 200


async def test_stored_hashes_are_argon2id_above_the_owasp_minimum(app: FastAPI) -> None:
    services: Services = app.state.gateway
    async with services.database.sessions() as session:
        user = await UserStore(session).get("alice")
    assert user is not None
    params = dict(p.split("=") for p in user.password_hash.split("$")[3].split(","))
    assert user.password_hash.startswith("$argon2id$")
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2
    assert params["p"] == "1"  # one lane: a verify starts no threads of libargon2's own


@pytest.fixture
def settings(make_settings: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    clients = getattr(request, "param", {})
    return make_settings(auth={"clients": clients})


CLIENTS = {"web": "s3cret-for-web", "cli": ""}


@pytest.mark.parametrize("settings", [CLIENTS], indirect=True)
@pytest.mark.parametrize(
    ("credentials", "status"),
    [("web:s3cret-for-web", 200), ("cli:", 200), ("web:wrong", 401), ("nobody:", 401), (":", 401)],
)
async def test_configured_clients_must_authenticate(
    client: httpx.AsyncClient, credentials: str, status: int
) -> None:
    basic = base64.b64encode(credentials.encode()).decode()
    response = await client.post(
        "/apiv2/token", data=form(), headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == status, response.text
    if status == 401:
        assert_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"] == 'Basic realm="apiv2"'


@pytest.mark.parametrize("settings", [CLIENTS], indirect=True)
async def test_configured_clients_may_authenticate_in_the_body(client: httpx.AsyncClient) -> None:
    ok = await client.post(
        "/apiv2/token", data=form(client_id="web", client_secret="s3cret-for-web")
    )
    assert ok.status_code == 200
    missing = await client.post("/apiv2/token", data=form())
    assert_error(missing, 401, "invalid_client")
    both = await client.post(
        "/apiv2/token",
        data=form(client_id="web", client_secret="s3cret-for-web"),
        headers={"Authorization": "Basic " + base64.b64encode(b"web:s3cret-for-web").decode()},
    )
    assert_error(both, 400, "invalid_request")


async def test_logins_waiting_for_argon2_hold_no_database_connection(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More logins than the connection pool holds, all waiting for their verify at once.
    services: Services = app.state.gateway
    pool = services.database.engine.pool
    logins = pool.size() + pool._max_overflow + 5  # type: ignore[attr-defined]
    verifying: list[None] = []
    all_waiting, release = anyio.Event(), anyio.Event()
    real_verify = services.passwords.verify

    async def slow_verify(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        verifying.append(None)
        if len(verifying) == logins:
            all_waiting.set()
        await release.wait()
        return await real_verify(password, stored_hash)

    monkeypatch.setattr(services.passwords, "verify", slow_verify)
    answers: list[int] = []

    async def log_in() -> None:
        answers.append((await client.post("/apiv1/token", data=form())).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(logins):
            group.start_soon(log_in)
        with anyio.fail_after(30):
            await all_waiting.wait()
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        release.set()
    assert answers == [200] * logins
