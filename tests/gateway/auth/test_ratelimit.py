"""Rate limits: logins per account and per address, authenticated calls per version and
principal, shared through Redis, and what happens when Redis is down (STANDARDS 8, 26, 29, 30)."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from limits.errors import StorageError

from gateway import Settings, SettingsError, create_app
from gateway.auth import ratelimit
from gateway.auth.ratelimit import (
    RateLimiter,
    account_key,
    address_key,
)
from gateway.auth.users import UserStore
from gateway.errors import LimitExceededError, StoreUnavailableError
from gateway.services import Services
from gateway.settings import RateLimitSettings
from tests.conftest import PASSWORD, AddUser, bearer, client_for, login

pytestmark = pytest.mark.anyio
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    # Each test names its limits with @pytest.mark.parametrize("settings", [...], indirect=True).
    sections: dict[str, Any] = getattr(request, "param", {})
    return make_settings(**sections)


def limits(**ratelimit_section: str) -> Any:
    return pytest.mark.parametrize("settings", [{"ratelimit": ratelimit_section}], indirect=True)


@pytest.fixture
async def users(add_user: AddUser) -> None:
    await add_user("alice")
    await add_user("bob")


def from_address(app: FastAPI, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


WRONG = "wrong password"


async def attempt(
    client: httpx.AsyncClient, username: str = "alice", password: str = WRONG
) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post("/apiv1/token", data=form)


def assert_throttled(response: httpx.Response, window: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "slow_down"
    assert response.json()["error_description"]
    assert 1 <= int(response.headers["retry-after"]) <= window
    assert {key: response.headers.get(key) for key in NO_STORE} == NO_STORE


# --- logins ---------------------------------------------------------------------------------


@limits(login_per_account="3/minute", login_per_address="6/minute")
@pytest.mark.usefixtures("users")
async def test_per_account_limit_then_per_address_limit(client: httpx.AsyncClient) -> None:
    # Failures spend the account's budget; a right password gives its unit back.
    assert (await attempt(client)).status_code == 400
    assert (await attempt(client, password=PASSWORD)).status_code == 200
    assert (await attempt(client)).status_code == 400
    assert (await attempt(client)).status_code == 400
    # Over its budget, the account is refused even the right password.
    throttled = await attempt(client, password=PASSWORD)
    assert_throttled(throttled)
    assert "this account" in throttled.json()["error_description"]
    # The address counts every attempt, successes and the refused one above included: another
    # account from the same address is allowed until the address has had 6.
    assert (await attempt(client, username="bob", password=PASSWORD)).status_code == 200
    throttled = await attempt(client, username="bob", password=PASSWORD)
    assert_throttled(throttled)
    assert "this address" in throttled.json()["error_description"]


DEFAULTS = RateLimitSettings()


@limits(login_per_account=DEFAULTS.login_per_account, login_per_address=DEFAULTS.login_per_address)
@pytest.mark.usefixtures("users")
async def test_with_the_default_limits_honest_logins_pass_and_guesses_do_not(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(20):
        assert (await attempt(client, password=PASSWORD)).status_code == 200
    responses = [await attempt(client) for _ in range(6)]
    assert [r.status_code for r in responses] == [400] * 5 + [429]
    assert_throttled(responses[-1])


@limits(login_per_account="3/minute", login_per_address="100/minute")
@pytest.mark.usefixtures("users")
async def test_parallel_guesses_spend_the_budget_before_any_verify(
    client: httpx.AsyncClient,
) -> None:
    statuses: list[int] = []

    async def guess() -> None:
        statuses.append((await attempt(client)).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(12):
            group.start_soon(guess)
    assert sorted(statuses) == [400] * 3 + [429] * 9
    assert_throttled(await attempt(client, password=PASSWORD))


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest) -> str:
    url: str = "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")
    return url


async def test_successes_give_their_unit_back_in_every_store(store_url: str) -> None:
    url = store_url
    name = f"user-{uuid.uuid4().hex}"
    limiter = RateLimiter.from_settings(
        Settings(ratelimit={"storage_url": url, "login_per_account": "2/minute"})
    )
    try:
        for _ in range(10):
            await limiter.check_login(name, "192.0.2.1")
            await limiter.login_succeeded(name)
        await limiter.check_login(name, "192.0.2.1")
        await limiter.check_login(name, "192.0.2.1")
        with pytest.raises(LimitExceededError) as refused:
            await limiter.check_login(name, "192.0.2.1")
        assert 1 <= refused.value.retry_after <= 60
    finally:
        await limiter.close()


@limits(login_per_account="3/minute", login_per_address="100/minute")
@pytest.mark.usefixtures("users")
async def test_another_account_is_not_limited_by_the_first(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await attempt(client)
    assert_throttled(await attempt(client))
    assert_throttled(await attempt(client, username=" ALICE "))  # one budget per account
    assert (await attempt(client, username="bob", password=PASSWORD)).status_code == 200


@limits(login_per_account="100/minute", login_per_address="2/minute")
@pytest.mark.usefixtures("users")
async def test_per_address_limit(app: FastAPI) -> None:
    async with (
        from_address(app, "198.51.100.7") as first,
        from_address(app, "203.0.113.9") as other,
    ):
        assert (await attempt(first, username="alice")).status_code == 400
        assert (await attempt(first, username="bob")).status_code == 400
        throttled = await attempt(first, username="carol")  # a new name does not help
        assert_throttled(throttled)
        assert "this address" in throttled.json()["error_description"]
        assert (await attempt(other, password=PASSWORD)).status_code == 200


@limits(login_per_account="2/minute")
@pytest.mark.usefixtures("users")
async def test_throttled_attempts_run_no_password_hash(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    services: Services = app.state.gateway
    verify = services.passwords.verify
    verified: list[str] = []

    async def counting(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        verified.append(password)
        return await verify(password, stored_hash)

    monkeypatch.setattr(services.passwords, "verify", counting)
    for _ in range(2):
        assert (await attempt(client)).status_code == 400
    assert len(verified) == 2
    started = time.perf_counter()
    for _ in range(20):
        assert_throttled(await attempt(client))
    assert len(verified) == 2  # no argon2 for a refused attempt
    assert time.perf_counter() - started < 1.0  # 20 refusals cost less than a few hashes


@limits(login_per_account="1/minute")
@pytest.mark.usefixtures("users")
async def test_malformed_requests_do_not_count(client: httpx.AsyncClient) -> None:
    # They are refused before any password work, so they need no budget of their own.
    for _ in range(3):
        response = await client.post("/apiv1/token", data={"grant_type": "password"})
        assert response.status_code == 400
    assert (await attempt(client, password=PASSWORD)).status_code == 200


def test_account_and_address_keys() -> None:
    assert account_key("  Alice ") == account_key("ALICE") == "alice"
    assert account_key("x" * 5000).startswith("sha256:")
    assert len(account_key("x" * 5000)) < 80
    # An IPv6 host usually has a whole /64, so the network is what is counted.
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "192.0.2.1"
    assert address_key(None) == "unknown"


# --- authenticated calls --------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [{"ratelimit": {"authenticated": "3/minute"}, "versions": {"v2": {"rate_limit": "5/minute"}}}],
    indirect=True,
)
@pytest.mark.usefixtures("users")
async def test_authenticated_limit_per_version_and_principal(client: httpx.AsyncClient) -> None:
    alice = {version: bearer(await login(client, version)) for version in (1, 2)}
    for _ in range(3):
        assert (await client.get("/apiv1/users/me", headers=alice[1])).status_code == 200
    throttled = await client.get("/apiv1/users/me", headers=alice[1])
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert "3 per 1 minute" in throttled.json()["detail"]
    # v2 has its own count and its own limit from [versions.v2] rate_limit.
    for _ in range(5):
        assert (await client.get("/apiv2/users/me", headers=alice[2])).status_code == 200
    assert (await client.get("/apiv2/users/me", headers=alice[2])).status_code == 429
    # Another principal has its own budget.
    bob = bearer(await login(client, 1, "bob"))
    assert (await client.get("/apiv1/users/me", headers=bob)).status_code == 200
    # Calls without a valid token are not counted against anyone: they get 401, not 429.
    assert (await client.get("/apiv1/users/me")).status_code == 401


def counting_limiter(authenticated: str) -> tuple[RateLimiter, list[int]]:
    """A memory limiter, and the cost of every call it makes to the store."""
    limiter = RateLimiter.from_settings(Settings(ratelimit={"authenticated": authenticated}))
    store_hits: list[int] = []
    hit = limiter._calls.hit

    async def counted_hit(item: Any, *ids: str, cost: int = 1) -> bool:
        store_hits.append(cost)
        return await hit(item, *ids, cost=cost)

    limiter._calls.hit = counted_hit  # type: ignore[method-assign]
    return limiter, store_hits


async def test_large_limits_are_counted_in_leases_and_never_exceeded() -> None:
    limiter, store_hits = counting_limiter("1000/minute")
    for _ in range(1000):
        await limiter.check_call(1, "alice")
    with pytest.raises(LimitExceededError):
        await limiter.check_call(1, "alice")
    # Leases of 10 (1% of the limit): one store operation per ten calls.
    assert store_hits[:100] == [10] * 100
    # Another version and another principal each have their own count.
    await limiter.check_call(2, "alice")
    await limiter.check_call(1, "bob")


async def test_near_the_limit_calls_count_one_by_one() -> None:
    limiter, store_hits = counting_limiter("251/minute")  # leases of 2
    for _ in range(250):
        await limiter.check_call(1, "alice")
    store_hits.clear()
    await limiter.check_call(1, "alice")  # the 251st: no lease of 2 fits, one unit does
    assert store_hits == [2, 1]
    with pytest.raises(LimitExceededError):
        await limiter.check_call(1, "alice")


async def test_small_limits_count_every_call_in_the_store() -> None:
    limiter, store_hits = counting_limiter("199/minute")
    for _ in range(5):
        await limiter.check_call(1, "alice")
    assert store_hits == [1] * 5


async def test_an_unspent_lease_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter, store_hits = counting_limiter("1000/minute")
    await limiter.check_call(1, "alice")
    assert limiter.spend_lease(1, "alice")
    later = time.monotonic() + ratelimit.MAX_LEASE_SECONDS
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: later)
    assert not limiter.spend_lease(1, "alice")
    await limiter.check_call(1, "alice")
    assert store_hits == [10, 10]


@pytest.mark.parametrize(
    "settings", [{"ratelimit": {"authenticated": "300/minute"}}], indirect=True
)
@pytest.mark.usefixtures("users")
async def test_a_leased_limit_through_the_gateway(client: httpx.AsyncClient) -> None:
    alice = bearer(await login(client, 1))
    for _ in range(300):
        assert (await client.get("/apiv1/users/me", headers=alice)).status_code == 200
    throttled = await client.get("/apiv1/users/me", headers=alice)
    assert throttled.status_code == 429
    assert "300 per 1 minute" in throttled.json()["detail"]


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"ratelimit": {"login_per_account": "5 per fortnight"}},
            "ratelimit.login_per_account: cannot parse '5 per fortnight'",
        ),
        (
            {"ratelimit": {"authenticated": "lots"}},
            "ratelimit.authenticated: cannot parse 'lots'",
        ),
        (
            {"versions": {"v2": {"rate_limit": "10/minute;100/hour"}}},
            "versions.v2.rate_limit: give one limit",
        ),
        (
            {"ratelimit": {"login_per_address": "0/minute"}},
            "ratelimit.login_per_address: '0/minute' allows no request at all",
        ),
        (
            {"ratelimit": {"storage_url": "memcached://127.0.0.1:11211"}},
            "ratelimit.storage_url: unsupported 'memcached://127.0.0.1:11211'",
        ),
    ],
)
def test_bad_limits_stop_startup_naming_the_key(
    make_settings: Callable[..., Settings], sections: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        create_app(make_settings(**sections))
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


# --- Redis: shared counts, and a store that is down ------------------------------------------


def redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
async def redis_url(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The local Redis, with keys under a prefix of this test's own, deleted afterwards."""
    if not redis_answers():
        pytest.skip(f"Redis is not running at {REDIS_HOST}:{REDIS_PORT}; start it: {START_REDIS}")
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"gateway-test-{uuid.uuid4().hex}")
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    yield url
    storage = ratelimit.open_storage(url)
    await storage.reset()  # deletes only the keys under this test's prefix
    await ratelimit.close_storage(storage)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


async def test_two_gateways_share_limits_through_redis(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    settings = make_settings(
        ratelimit={
            "storage_url": redis_url,
            "login_per_account": "3/minute",
            "authenticated": "4/minute",
        }
    )
    first, second = create_app(settings), create_app(settings)
    async with (
        first.router.lifespan_context(first),
        second.router.lifespan_context(second),
        client_for(first) as one,
        client_for(second) as two,
    ):
        await add_alice(first)
        ready = await one.get("/readyz")
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "ratelimit": "ok"}}
        assert (await attempt(one, username="nobody")).status_code == 400
        assert (await attempt(two, username="nobody")).status_code == 400
        assert (await attempt(one, username="nobody")).status_code == 400
        assert_throttled(await attempt(two, username="nobody"))
        # A token issued by one is served by the other, and calls count in one budget.
        services: Services = first.state.gateway
        token = bearer(services.tokens.issue("alice", audience="apiv1", scopes=()).access_token)
        for client in (one, two, one, two):
            assert (await client.get("/apiv1/users/me", headers=token)).status_code == 200
        assert (await one.get("/apiv1/users/me", headers=token)).status_code == 429
        assert (await two.get("/apiv1/users/me", headers=token)).status_code == 429


async def assert_fails_closed_and_open(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    services: Services = app.state.gateway
    token = bearer(services.tokens.issue("alice", audience="apiv1", scopes=()).access_token)
    async with client_for(app) as client:
        started = time.perf_counter()
        refused = await attempt(client, password=PASSWORD)
        assert time.perf_counter() - started < 2.5  # short timeouts, not a stall
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "temporarily_unavailable"
        assert "rate-limit store" in refused.json()["error_description"]
        assert "Traceback" not in refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert {key: refused.headers.get(key) for key in NO_STORE} == NO_STORE
        assert (await attempt(client, password=PASSWORD)).status_code == 503
        # Valid tokens keep being served, without waiting for the store each time.
        started = time.perf_counter()
        for _ in range(10):
            assert (await client.get("/apiv1/users/me", headers=token)).status_code == 200
        assert time.perf_counter() - started < 1.0
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "ratelimit": "unreachable"},
        }
        assert (await client.get("/healthz")).status_code == 200
    warnings = [r for r in caplog.records if "rate-limit store unreachable" in r.getMessage()]
    assert len(warnings) == 1  # not one per request


async def test_redis_refusing_connections(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway")
    settings = make_settings(ratelimit={"storage_url": f"redis://127.0.0.1:{closed_port()}/0"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await add_alice(app)
        await assert_fails_closed_and_open(app, caplog)


async def test_redis_that_never_answers(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture, black_hole: int
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway")
    settings = make_settings(ratelimit={"storage_url": f"redis://127.0.0.1:{black_hole}/0"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await add_alice(app)
        await assert_fails_closed_and_open(app, caplog)


async def test_logins_resume_once_the_store_answers_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "STORE_RETRY_SECONDS", 0.2)
    limiter = RateLimiter.from_settings(Settings(ratelimit={"login_per_account": "1/minute"}))
    working = limiter.storage.acquire_entry  # type: ignore[attr-defined]

    async def down(*args: Any, **kwargs: Any) -> bool:
        raise StorageError(ConnectionError("Connection refused"))

    monkeypatch.setattr(limiter.storage, "acquire_entry", down)
    with pytest.raises(StoreUnavailableError):
        await limiter.check_login("alice", "192.0.2.1")
    monkeypatch.setattr(limiter.storage, "acquire_entry", working)
    with pytest.raises(StoreUnavailableError):  # not asked again before the retry interval
        await limiter.check_login("alice", "192.0.2.1")
    await anyio.sleep(0.25)
    await limiter.check_login("alice", "192.0.2.1")
    with pytest.raises(LimitExceededError):
        await limiter.check_login("alice", "192.0.2.1")


async def add_alice(app: FastAPI) -> None:
    services: Services = app.state.gateway
    async with services.database.sessions() as session:
        # These tests never reach a password check: spare them an argon2 hash.
        await UserStore(session).add("alice", "not-a-hash", ())
        await session.commit()
