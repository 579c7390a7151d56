"""Observability: X-Request-ID on every response, the request id on every log line, one JSON
access-log line per request with no secret in it, /metrics by version, route and status, and a
middleware cheap enough for the hot path."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import anyio
import anyio.lowlevel
import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway import Settings, SettingsError, create_app, load_settings
from gateway.observability import metrics as metrics_module
from gateway.observability.access_log import (
    ACCESS_LOGGER,
    FLUSH_SECONDS,
    PIPE_BUF,
    AccessLineWriter,
    send_access_log_to,
)
from gateway.observability.metrics import GatewayMetrics, record_token_failed, record_token_issued
from gateway.observability.middleware import install_observability
from gateway.observability.request_id import (
    NO_REQUEST_ID,
    REQUEST_ID_KEY,
    install_request_id_records,
)
from tests.conftest import PASSWORD, AddUser, bearer, client_for, login

pytestmark = pytest.mark.anyio

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
probe_log = logging.getLogger("gateway.tests.probe")

# One path of each kind: version route, gateway route, 404s, a redirect, 500s.
PATHS = [
    "/apiv1/probe/id",
    "/apiv1/users/me",
    "/healthz",
    "/nowhere",
    "/apiv1/nowhere",
    "/apiv9/anything",
    "/apiv1",
    "/probe/explode",
    "/apiv1/probe/explode",
]


def add_probes(gateway: FastAPI) -> None:
    """Routes that log, fail and count tokens, in the gateway and in version 1."""

    async def request_id(request: Request) -> dict[str, Any]:
        probe_log.info("probe handled")
        return {"request_id": request.scope.get(REQUEST_ID_KEY)}

    def in_a_thread(request: Request) -> dict[str, Any]:
        probe_log.info("probe handled in a worker thread")
        return {"request_id": request.scope.get(REQUEST_ID_KEY)}

    async def explode() -> None:
        raise RuntimeError("the probe went off")

    async def count_tokens() -> dict[str, str]:
        record_token_issued(1)
        record_token_issued(1)
        record_token_failed(1, "invalid_grant")
        return {}

    version = gateway.version_app(1)
    for app in (gateway, version):
        app.add_api_route("/probe/id", request_id, methods=["GET"])
        app.add_api_route("/probe/thread", in_a_thread, methods=["GET"])
        app.add_api_route("/probe/explode", explode, methods=["GET"])
    version.add_api_route("/probe/tokens", count_tokens, methods=["POST"])


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    # Replaces conftest's ``app``, so ``client`` and ``add_user`` use the observed gateway.
    gateway = create_app(settings)
    add_probes(gateway)
    async with gateway.router.lifespan_context(gateway):
        yield gateway


@pytest.fixture(autouse=True)
def access_logger_propagates() -> Iterator[logging.Logger]:
    """The access logger as a fresh process has it, whatever another test configured."""
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers, logger.level, logger.propagate = [], logging.NOTSET, True
    yield logger
    logger.handlers, logger.level, logger.propagate = saved


def gateway_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    # httpx logs each request the test's client makes, full URL included: that is the client's
    # log, written after the response, not the gateway's.
    return [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text ``text``; 0 when it is absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


# --- X-Request-ID ---------------------------------------------------------------------------


async def test_a_new_id_is_generated_for_every_kind_of_response(
    client: httpx.AsyncClient,
) -> None:
    seen = set()
    for path in PATHS:
        response = await client.get(path)
        assert GENERATED_ID.match(response.headers["x-request-id"]), path
        assert len(response.headers.get_list("x-request-id")) == 1, path
        seen.add(response.headers["x-request-id"])
    assert len(seen) == len(PATHS)


@pytest.mark.parametrize("path", PATHS)
async def test_a_well_formed_incoming_id_is_kept(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"X-Request-ID": "Req-42.trace_id"})
    assert response.headers["x-request-id"] == "Req-42.trace_id"


async def test_kept_and_generated_ids_reach_handlers_in_the_scope(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/probe/id", "/apiv1/probe/id", "/probe/thread", "/apiv1/probe/thread"):
        response = await client.get(path, headers={"X-Request-ID": "kept-1"})
        assert response.json() == {"request_id": "kept-1"}, path
        response = await client.get(path)
        assert response.json() == {"request_id": response.headers["x-request-id"]}, path


@pytest.mark.parametrize(
    "incoming",
    [b"", b"has space", b"a" * 129, b"semi;colon", b'quo"te', b"new\\nline", "ünï".encode()],
    ids=["empty", "space", "too-long", "semicolon", "quote", "backslash", "non-ascii"],
)
async def test_a_malformed_incoming_id_is_replaced(
    client: httpx.AsyncClient, incoming: bytes
) -> None:
    for path in ("/healthz", "/apiv1/probe/id", "/nowhere"):
        response = await client.get(path, headers={"X-Request-ID": incoming})
        assert GENERATED_ID.match(response.headers["x-request-id"]), path


async def test_the_longest_well_formed_id_is_kept(client: httpx.AsyncClient) -> None:
    longest = "a" * 128
    response = await client.get("/healthz", headers={"X-Request-ID": longest})
    assert response.headers["x-request-id"] == longest


# --- log lines ---------------------------------------------------------------------------------


async def test_every_log_line_of_a_request_carries_its_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for path in [*PATHS, "/probe/thread", "/apiv1/probe/thread"]:
        caplog.clear()
        response = await client.get(path)
        request_id = response.headers["x-request-id"]
        records = gateway_records(caplog)
        assert records, path
        assert {r.request_id for r in records} == {request_id}, path  # type: ignore[attr-defined]
        if "probe/id" in path or "probe/thread" in path:
            assert "probe handled" in caplog.text
        if "explode" in path:
            assert "unhandled error on GET" in caplog.text
    caplog.clear()
    probe_log.info("outside any request")
    assert caplog.records[0].request_id == NO_REQUEST_ID  # type: ignore[attr-defined]
    # So a format string may always name it, in a request or not.
    formatter = logging.Formatter("[%(request_id)s] %(message)s")
    assert formatter.format(caplog.records[0]) == "[-] outside any request"
    factory = logging.getLogRecordFactory()
    install_request_id_records()  # once per process, however many gateways are built
    assert logging.getLogRecordFactory() is factory


@pytest.mark.parametrize("path", ["/probe/explode", "/apiv1/probe/explode"])
async def test_an_unhandled_error_is_answered_and_logged_once_with_the_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    # conftest's client raises what reaches it: the error is handled, it does not escape.
    caplog.set_level(logging.INFO)
    response = await client.get(path, headers={"X-Request-ID": "boom-1"})
    assert (response.status_code, response.json()) == (500, {"detail": "Internal server error"})
    assert response.headers["x-request-id"] == "boom-1"
    [error] = [r for r in gateway_records(caplog) if r.levelno >= logging.ERROR]
    assert error.getMessage() == f"unhandled error on GET {path}"
    assert error.exc_info is not None
    assert error.request_id == "boom-1"  # type: ignore[attr-defined]
    assert access_lines(caplog)[0]["status"] == 500


# --- access log --------------------------------------------------------------------------------


async def test_access_line_of_a_version_call_with_a_principal(
    client: httpx.AsyncClient, add_user: AddUser, caplog: pytest.LogCaptureFixture
) -> None:
    await add_user("alice")
    token = await login(client, 1)
    caplog.set_level(logging.INFO)
    before = datetime.now(UTC)
    response = await client.get(
        "/apiv1/users/me", headers={**bearer(token), "X-Request-ID": "call-1"}
    )
    assert response.status_code == 200
    [line] = access_lines(caplog)
    assert list(line) == [
        "time",
        "request_id",
        "method",
        "path",
        "version",
        "route",
        "status",
        "latency_ms",
        "principal",
        "client",
    ]
    assert {k: v for k, v in line.items() if k not in ("time", "latency_ms")} == {
        "request_id": "call-1",
        "method": "GET",
        "path": "/apiv1/users/me",
        "version": 1,
        "route": "/users/me",
        "status": 200,
        "principal": "alice",
        "client": "127.0.0.1",
    }
    moment = datetime.fromisoformat(line["time"])
    assert moment.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)
    assert isinstance(line["latency_ms"], float)
    assert line["latency_ms"] >= 0


async def test_access_lines_name_the_route_template_never_a_guess(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await client.get("/apiv2/items/12345")  # 401: the route matched, the caller did not
    await client.get("/healthz")
    await client.get("/nowhere")
    await client.get("/api/healthz", headers={"API-Version": "1"})
    lines = [
        {k: line[k] for k in ("path", "version", "route", "status", "principal")}
        for line in access_lines(caplog)
    ]
    assert lines == [
        {
            "path": "/apiv2/items/12345",
            "version": 2,
            "route": "/items/{item_id}",
            "status": 401,
            "principal": None,
        },
        {
            "path": "/healthz",
            "version": None,
            "route": "/healthz",
            "status": 200,
            "principal": None,
        },
        {"path": "/nowhere", "version": None, "route": None, "status": 404, "principal": None},
        {"path": "/api/healthz", "version": 1, "route": None, "status": 404, "principal": None},
    ]


async def test_access_lines_are_json_whatever_the_path_holds(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await client.get('/nowhere/"quoted"\\back/ünï/{x} %25')
    await client.request("B\x7fAD", "/healthz")
    [nowhere, bad_method] = access_lines(caplog)
    assert nowhere["path"] == '/nowhere/"quoted"\\back/ünï/{x} %'
    assert bad_method["method"] == "B\x7fAD"


async def test_no_password_or_token_in_any_log_output(
    client: httpx.AsyncClient, add_user: AddUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await add_user("alice")
    token = await login(client, 2)
    await client.get("/apiv2/users/me", headers=bearer(token))
    await client.get(f"/apiv2/users/me?access_token={token}")
    await client.get("/apiv2/items/", headers=bearer(token))
    await client.post(
        "/apiv2/token",
        data={"grant_type": "password", "username": "alice", "password": "wrong " + PASSWORD},
    )
    assert len(access_lines(caplog)) >= 5
    everything = "".join(
        repr(vars(record)) + record.getMessage() + "\n" for record in gateway_records(caplog)
    )
    assert "alice" in everything  # the principal is there; its secrets are not
    for secret in (PASSWORD, token, token.split(".")[2], "Bearer ", "access_token="):
        assert secret not in everything


async def test_access_log_can_be_turned_off(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(server={"access_log": False})
    gateway = create_app(settings)
    caplog.set_level(logging.INFO)
    async with gateway.router.lifespan_context(gateway), client_for(gateway) as client:
        response = await client.get("/healthz")
        metrics = (await client.get("/metrics")).text
    assert GENERATED_ID.match(response.headers["x-request-id"])
    assert not access_lines(caplog)
    assert sample(metrics, "gateway_requests_total", **_labels("", "/healthz", "GET", "200")) == 1


async def test_access_lines_go_to_their_stream_as_bare_json(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    send_access_log_to(stream)
    send_access_log_to(stream)  # a second call replaces the handler: still one line per request
    logging.getLogger().setLevel(logging.WARNING)  # log_level must not silence the access log
    await client.get("/healthz", headers={"X-Request-ID": "bare-1"})
    await anyio.sleep(2 * FLUSH_SECONDS)  # lines are written in chunks, or after FLUSH_SECONDS
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["request_id"] == "bare-1"
    assert not access_lines(caplog)  # not printed a second time, with a prefix, by the root


class RecordingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


async def test_access_lines_are_written_in_chunks_of_whole_lines(
    client: httpx.AsyncClient,
) -> None:
    stream = RecordingStream()
    send_access_log_to(stream)
    sent = [f"r{number}" for number in range(60)]
    for request_id in sent:
        await client.get("/healthz", headers={"X-Request-ID": request_id})
    await anyio.sleep(2 * FLUSH_SECONDS)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == sent
    # Few writes, each whole lines and small enough that a pipe never interleaves them.
    assert 1 < len(stream.writes) < 20
    assert all(len(chunk.encode()) <= PIPE_BUF for chunk in stream.writes)
    assert all(chunk.endswith("\n") for chunk in stream.writes)


def test_lines_outside_an_event_loop_and_at_close_are_not_lost() -> None:
    stream = io.StringIO()
    writer = AccessLineWriter(stream)
    writer.write('{"n":1}')  # no event loop here: written at once
    assert stream.getvalue() == '{"n":1}\n'

    async def pending_at_close() -> None:
        writer.write('{"n":2}')
        writer.close()  # as logging.shutdown does at exit

    anyio.run(pending_at_close)
    assert stream.getvalue().splitlines() == ['{"n":1}', '{"n":2}']


# --- metrics -----------------------------------------------------------------------------------


def _labels(version: str, route: str, method: str, status: str) -> dict[str, str]:
    return {"version": version, "route": route, "method": method, "status": status}


async def test_metrics_count_requests_by_version_route_method_and_status(
    client: httpx.AsyncClient, add_user: AddUser
) -> None:
    await add_user("alice")
    token = await login(client, 1)
    for _ in range(3):
        await client.get("/apiv1/users/me", headers=bearer(token))
    await client.get("/apiv1/users/me")
    await client.get("/apiv2/items/1", headers=bearer(token))  # a v1 token: 401 in v2
    await client.get("/healthz")
    await client.get("/nowhere/7ab3c9")
    await client.request("BREW", "/healthz")
    await client.get("/apiv1/probe/explode")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text

    expected = {
        ("1", "/token", "POST", "200"): 1,
        ("1", "/users/me", "GET", "200"): 3,
        ("1", "/users/me", "GET", "401"): 1,
        ("2", "/items/{item_id}", "GET", "401"): 1,
        ("", "/healthz", "GET", "200"): 1,
        ("", "<unmatched>", "GET", "404"): 1,
        ("", "/healthz", "other", "405"): 1,
        ("1", "/probe/explode", "GET", "500"): 1,
    }
    for labels, count in expected.items():
        assert sample(text, "gateway_requests_total", **_labels(*labels)) == count, labels
    users_me = {"version": "1", "route": "/users/me"}
    assert sample(text, "gateway_request_duration_seconds_count", **users_me) == 4
    assert sample(text, "gateway_request_duration_seconds_sum", **users_me) > 0
    assert "7ab3c9" not in text  # raw paths never become labels
    assert "BREW" not in text


def test_request_series_read_as_prometheus_clients_own_would() -> None:
    # The oracle: a prometheus_client Counter and Histogram fed the same requests.
    observations = [(1, "/ping", "GET", 200, 0.001), (1, "/ping", "GET", 200, 0.0031)]
    observations += [(1, "/ping", "POST", 429, 20.0), (None, None, "BREW", 404, 0.0)]
    metrics = GatewayMetrics()
    oracle = CollectorRegistry()
    requests = Counter(
        "gateway_requests", "x", ("version", "route", "method", "status"), registry=oracle
    )
    latency = Histogram(
        "gateway_request_duration_seconds",
        "x",
        ("version", "route"),
        buckets=metrics_module._LATENCY_BUCKETS,
        registry=oracle,
    )
    for version, route, method, status, seconds in observations:
        metrics.observe(version, route, method, status, seconds)
        labels = ("" if version is None else str(version), route or "<unmatched>")
        requests.labels(*labels, "other" if method == "BREW" else method, str(status)).inc()
        latency.labels(*labels).observe(seconds)

    def samples(registry: CollectorRegistry) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
        return {
            (found.name, tuple(sorted(found.labels.items())), found.value)
            for family in text_string_to_metric_families(generate_latest(registry).decode())
            for found in family.samples
            if not found.name.endswith("_created")
        }

    ours = {found for found in samples(metrics.registry) if "token" not in found[0]}
    assert ours == samples(oracle)


async def test_token_counters_move_when_the_token_endpoint_records(
    client: httpx.AsyncClient,
) -> None:
    record_token_issued(1)  # outside a request: nowhere to count, and no error
    await client.post("/apiv1/probe/tokens")
    await client.post("/apiv1/probe/tokens")
    text = (await client.get("/metrics")).text
    assert sample(text, "gateway_tokens_issued_total", version="1") == 4
    assert sample(text, "gateway_token_failures_total", version="1", error="invalid_grant") == 2


async def test_each_gateway_counts_on_its_own_registry(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    first = create_app(settings)
    second = create_app(settings)
    healthz = _labels("", "/healthz", "GET", "200")
    async with client_for(first) as one, client_for(second) as other:
        await one.get("/healthz")
        await one.get("/healthz")
        await other.get("/healthz")
        assert sample((await one.get("/metrics")).text, "gateway_requests_total", **healthz) == 2
        assert sample((await other.get("/metrics")).text, "gateway_requests_total", **healthz) == 1


async def test_metrics_speak_openmetrics_when_asked(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


# --- cost --------------------------------------------------------------------------------------


def minimal_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


async def drive(app: FastAPI, requests: int) -> float:
    """Seconds to serve ``requests`` GETs, calling the ASGI app directly: no client in the way."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    start = time.perf_counter()
    for number in range(requests):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/items/{number}",
            "raw_path": f"/items/{number}".encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"accept", b"*/*")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        await app(scope, receive, send)
    return time.perf_counter() - start


@pytest.fixture
def devnull() -> Iterator[TextIO]:
    with open(os.devnull, "w") as stream:
        yield stream


async def test_the_middleware_costs_little_next_to_a_bare_fastapi_app(
    settings: Settings, devnull: TextIO
) -> None:
    bare = minimal_app()
    with_observability = minimal_app()
    install_observability(with_observability, settings)
    # Access lines really written, as in production: to a file, one write and flush each.
    send_access_log_to(devnull)
    for app in (bare, with_observability):
        await drive(app, 200)  # build the middleware stacks, warm the caches
    ratios = []
    for _ in range(5):
        bare_seconds = await drive(bare, 2000)
        observed_seconds = await drive(with_observability, 2000)
        ratios.append(observed_seconds / bare_seconds)
    ratio = statistics.median(ratios)
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"observability overhead: {ratio:.2f}x a bare FastAPI app (rounds: {rounds})")
    assert ratio <= 2.5


METRICS_TOKEN = "scrape-" + "t" * 32


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-of-some-length", f"Basic {METRICS_TOKEN}", "Bearer", ""],
)
async def test_metrics_with_a_token_refuse_scrapes_without_it(
    make_settings: Callable[..., Settings], authorization: str | None
) -> None:
    gateway = create_app(make_settings(metrics={"token": METRICS_TOKEN}))
    headers = {} if authorization is None else {"Authorization": authorization}
    async with client_for(gateway) as client:
        response = await client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert "gateway_requests_total" not in response.text


async def test_metrics_with_a_token_answer_the_scraper_that_sends_it(
    make_settings: Callable[..., Settings],
) -> None:
    gateway = create_app(make_settings(metrics={"token": METRICS_TOKEN}))
    async with client_for(gateway) as client:
        await client.get("/healthz")
        response = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200
    healthz = _labels("", "/healthz", "GET", "200")
    assert sample(response.text, "gateway_requests_total", **healthz) == 1


async def test_metrics_without_a_token_stay_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 200


def test_the_metrics_token_is_a_secret_settable_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GATEWAY_METRICS__TOKEN", METRICS_TOKEN)
    settings = load_settings()
    assert settings.metrics.token is not None
    assert settings.metrics.token.get_secret_value() == METRICS_TOKEN
    assert METRICS_TOKEN not in repr(settings)
    monkeypatch.setenv("GATEWAY_METRICS__TOKEN", "short")
    with pytest.raises(SettingsError, match=r"metrics\.token: Value should have at least 16"):
        load_settings()
