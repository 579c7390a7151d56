"""Parity: v1 as shipped answers every v1 request exactly as the hand-written v1 did.

The shipped ``versions`` package holds v1 derived from v2; ``tests.fixtures.handwritten_v1``
holds the hand-written module it replaced, over the same v2. Both gateways get one corpus of v1
requests, valid and invalid, in the same order (``parity.py`` says how, and what is compared):
status, body bytes and every header but ``x-request-id`` must be equal.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.testing import GatewayClient
from gateway.usage.recorder import usage_report
from tests.gateway.versioning.derivation.parity import Call, Pair, gateway_pair

pytestmark = pytest.mark.anyio

SHIPPED = "versions"
HANDWRITTEN = "tests.fixtures.handwritten_v1"
ITEMS = "/apiv1/items/"
JSON_TYPE = "application/json"


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async with gateway_pair(tmp_path, SHIPPED, HANDWRITTEN) as gateways:
        yield gateways


def create(body: object, caller: str | None = "alice", path: str = ITEMS) -> Call:
    return raw(json.dumps(body, ensure_ascii=False).encode(), caller=caller, path=path)


def raw(
    body: bytes | None,
    content_type: str | None = JSON_TYPE,
    caller: str | None = "alice",
    path: str = ITEMS,
) -> Call:
    headers = {} if content_type is None else {"content-type": content_type}
    return Call("POST", path, body, headers, caller)


def get(path: str, caller: str | None = "alice", **headers: str) -> Call:
    return Call("GET", path, headers=headers, caller=caller)


VALID_BODIES: list[object] = [
    {"name": "Pen", "price": 9.99},
    {"name": "Ink", "price": "0.10"},
    {"name": "Desk", "price": 1000000},
    {"name": "Free", "price": 0},
    {"name": "Dear", "price": "9999999999.99"},
    {"name": "Tiny", "price": 0.01},
    {"name": "One", "price": 1.0},
    {"name": "Exponent", "price": 1e2},
    {"name": "Sum", "price": "12.5"},
    {"price": 2, "name": "Keys in another order"},
    {"name": "Ünïcødé ✓ 名前", "price": 1.5},
    {"name": "x" * 200, "price": 3},
    {"name": " spaced ", "price": "-0"},
]

INVALID_BODIES: list[object] = [
    {},
    {"name": "Pen"},
    {"price": 1},
    # v2's names and fields, sent to v1
    {"title": "Pen", "price": 1},
    {"name": "Pen", "title": "Pen", "price": 1},
    {"name": "Pen", "price": 1, "tags": ["a"]},
    {"name": "Pen", "price": 1, "tags": []},
    {"name": "Pen", "price": 1, "currency": "EUR"},
    {"name": "Pen", "price": 1, "created_at": "2026-01-01T00:00:00Z"},
    {"name": "Pen", "price": 1, "id": 5},
    {"name": "Pen", "price": {"amount": "1"}},
    {"name": "Pen", "price": {"amount": "1", "currency": "EUR"}},
    {"title": "Pen", "price": {"amount": "1"}, "tags": ["a"]},
    # several mistakes at once: the errors' order is pydantic's
    {"tags": "x", "name": 5, "price": "x", "colour": "red"},
    {"colour": "red", "name": "", "price": -1},
    # prices
    {"name": "Pen", "price": -1},
    {"name": "Pen", "price": -0.01},
    {"name": "Pen", "price": 1.234},
    {"name": "Pen", "price": "1.234"},
    {"name": "Pen", "price": 0.1 + 0.2},
    {"name": "Pen", "price": 12345678901},
    {"name": "Pen", "price": "12345678901.5"},
    {"name": "Pen", "price": 1e20},
    {"name": "Pen", "price": 10**30},
    {"name": "Pen", "price": "abc"},
    {"name": "Pen", "price": ""},
    {"name": "Pen", "price": "NaN"},
    {"name": "Pen", "price": "Infinity"},
    {"name": "Pen", "price": True},
    {"name": "Pen", "price": None},
    {"name": "Pen", "price": []},
    {"name": "Pen", "price": [1]},
    {"name": "Pen", "price": {}},
    # names
    {"name": 5, "price": 1},
    {"name": "", "price": 1},
    {"name": "x" * 201, "price": 1},
    {"name": None, "price": 1},
    {"name": ["Pen"], "price": 1},
    {"name": {"first": "Pen"}, "price": 1},
    # not an object
    [],
    [{"name": "Pen", "price": 1}],
    None,
    "Pen",
    1,
    True,
]

RAW_BODIES: list[tuple[bytes | None, str | None]] = [
    # numbers JSON cannot carry
    (b'{"name": "Pen", "price": 1e309}', JSON_TYPE),
    (b'{"name": "Pen", "price": -1e309}', JSON_TYPE),
    (b'{"name": "Pen", "price": NaN}', JSON_TYPE),
    (b'{"name": "Pen", "price": Infinity}', JSON_TYPE),
    (b'{"name": "Pen", "price": -Infinity}', JSON_TYPE),
    (b'{"name": NaN, "price": 1}', JSON_TYPE),
    (b'{"name": "Pen", "price": 1, "tags": [1e309]}', JSON_TYPE),
    (b'{"name": "Pen", "price": {"amount": 1e309}}', JSON_TYPE),
    (b'{"title": "Pen", "price": 1e309, "currency": NaN}', JSON_TYPE),
    (b'{"name": "Pen", "price": 1e308}', JSON_TYPE),
    # not JSON, or not only JSON
    (b'{"name":', JSON_TYPE),
    (b'{"name": "Pen", "price": 1,}', JSON_TYPE),
    (b'{"name": "Pen", "price": 1} trailing', JSON_TYPE),
    (b"\xff\xfe{}", JSON_TYPE),
    (b'{"name": "P\xe9n", "price": 1}', JSON_TYPE),
    (b"", JSON_TYPE),
    (b" ", JSON_TYPE),
    (None, JSON_TYPE),
    (None, None),
    (b'{"name":"Dup","name":"Twice","price":1}', JSON_TYPE),
    (b'{"name":"Dup","price":"x","price":1}', JSON_TYPE),
    # JSON in other encodings, which Python's json reads from bytes as FastAPI does
    (b'\xef\xbb\xbf{"name": "Pen", "price": 1}', JSON_TYPE),
    ('{"name": "Pen", "price": 1}'.encode("utf-16"), JSON_TYPE),
    ('{"name": "Pen", "price": 1}'.encode("utf-32"), JSON_TYPE),
    ('{"name": "Pén", "price": 1}'.encode("latin-1"), "application/json; charset=latin-1"),
    # other content types
    (b'{"name": "Pen", "price": 1}', "APPLICATION/JSON"),
    (b'{"name": "Pen", "price": NaN}', "text/plain"),
    (b'{"name": "Pen", "price": NaN}', None),
    (b'{"name": "Pen", "price": 1}', None),
    (b'{"name": "Pen", "price": 1}', "text/plain"),
    (b'{"name": "Pen", "price": 1}', "application/json; charset=utf-8"),
    (b'{"name": "Pen", "price": 1}', "application/vnd.items+json"),
    (b'{"name": "Pen", "price": 1}', "application/jsonx"),
    (b"name=Pen&price=1", "application/x-www-form-urlencoded"),
    (b"<item><name>Pen</name></item>", "application/xml"),
    (
        b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nPen\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
    ),
]


async def test_creating_reading_listing_and_deleting_items(pair: Pair) -> None:
    await pair.send_all([create(body) for body in VALID_BODIES])
    await pair.send_all(
        [
            get(f"{ITEMS}1"),
            get(f"{ITEMS}{len(VALID_BODIES)}"),
            get(f"{ITEMS}{len(VALID_BODIES) + 1}"),
            get(ITEMS),
            get(f"{ITEMS}?skip=2&limit=3"),
            get(f"{ITEMS}?skip=100"),
            get(f"{ITEMS}?limit=1000"),
            get(f"{ITEMS}?limit=1&limit=2"),
            get(f"{ITEMS}?unknown=1"),
            get(f"{ITEMS}1", accept="text/html"),
            Call("GET", f"{ITEMS}1", b'{"price": NaN}', {"content-type": JSON_TYPE}),
            Call("GET", ITEMS, b'{"skip": 1e309}', {"content-type": JSON_TYPE}),
            Call("DELETE", f"{ITEMS}1", b'{"price": NaN}', {"content-type": JSON_TYPE}),
            Call("DELETE", f"{ITEMS}1"),
            get(f"{ITEMS}1"),
            get(ITEMS),
            create({"name": "After a delete", "price": 1}),
            Call("DELETE", f"{ITEMS}{len(VALID_BODIES) + 1}", body=b'{"ignored": true}'),
            create({"name": "After the last one went", "price": 1}),
            get(ITEMS),
        ]
    )
    assert not pair.differences, pair.report()


@pytest.mark.parametrize("corpus", ["json", "raw"])
async def test_bodies_v1_refuses_and_how(pair: Pair, corpus: str) -> None:
    if corpus == "json":
        calls = [create(body) for body in INVALID_BODIES]
    else:
        calls = [raw(body, content_type) for body, content_type in RAW_BODIES]
    await pair.send_all(calls)
    await pair.send(get(ITEMS))  # what was stored, if anything
    assert not pair.differences, pair.report()


LISTING_QUERIES = [
    "skip=-1",
    "skip=abc",
    "skip=1e309",
    "skip=1000000001",
    "skip=",
    "limit=0",
    "limit=1001",
    "limit=1.5",
    "limit=NaN",
    "limit=inf",
    "skip=-1&limit=0",
]


async def test_listing_queries_v1_refuses(pair: Pair) -> None:
    await pair.send_all([get(f"{ITEMS}?{query}") for query in LISTING_QUERIES])
    assert not pair.differences, pair.report()


ITEM_IDS = [
    "0",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999",
    "abc",
    "1.5",
    "1e309",
    "NaN",
    "%20",
    "1%20",
    "01",
    "+1",
    "\uff11",  # a fullwidth digit one
]


async def test_item_ids_out_of_range(pair: Pair) -> None:
    await pair.send(create({"name": "Pen", "price": 1}))
    for item_id in ITEM_IDS:
        await pair.send(get(f"{ITEMS}{item_id}"))
        await pair.send(Call("DELETE", f"{ITEMS}{item_id}"))
    assert not pair.differences, pair.report()


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]
PATHS = [
    "/apiv1/items/",
    "/apiv1/items",
    "/apiv1/items/2",
    "/apiv1/items/2/",
    "/apiv1/items/abc",
    "/apiv1/items/2/tags",
    "/apiv1/items?skip=1",
    "/apiv1//items/",
    "/apiv1/Items/",
    "/apiv1/users/me",
    "/apiv1/token",
    "/apiv1/revoke",
    "/apiv1/nothing",
    "/apiv1/",
    "/apiv1",
]


@pytest.mark.parametrize("method", METHODS)
async def test_every_method_on_every_path(pair: Pair, method: str) -> None:
    await pair.send_all([create({"name": "Pen", "price": 1}), create({"name": "Cup", "price": 2})])
    body = b'{"name": "Changed", "price": 3}' if method in {"POST", "PUT", "PATCH"} else None
    for path in PATHS:
        await pair.send(Call(method, path, body, {"content-type": JSON_TYPE} if body else {}))
    await pair.send(get(ITEMS))
    assert not pair.differences, pair.report()


def tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"


async def test_callers_are_refused_alike(pair: Pair) -> None:
    alice = pair.tokens["alice"]
    authorizations = {
        "no header": None,
        "empty bearer": "Bearer",
        "bearer and a space": "Bearer ",
        "nonsense": "Bearer nonsense",
        "basic": "Basic YWxpY2U6c2VjcmV0",
        "lowercase scheme": f"bearer {alice}",
        "tampered": f"Bearer {tampered(alice)}",
        "a v2 token": f"Bearer {pair.tokens['alice of v2']}",
        "two tokens": f"Bearer {alice} {alice}",
    }
    operations = [
        ("GET", ITEMS, None),
        ("POST", ITEMS, b'{"name": "Pen", "price": 1}'),
        ("POST", ITEMS, b'{"name": "Pen", "price": "x", "tags": []}'),
        ("POST", ITEMS, b'{"name": "Pen", "price": 1e309}'),
        ("POST", ITEMS, b"[]"),
        ("GET", f"{ITEMS}1", None),
        ("GET", f"{ITEMS}0", None),
        ("DELETE", f"{ITEMS}1", None),
        ("GET", "/apiv1/users/me", None),
    ]
    await pair.send(create({"name": "Pen", "price": 1}))
    for method, path, body in operations:
        headers = {"content-type": JSON_TYPE} if body else {}
        for authorization in authorizations.values():
            sent = headers if authorization is None else {**headers, "Authorization": authorization}
            await pair.send(Call(method, path, body, sent, caller=None))
        for caller in ("reader", "nobody", "reader of v2"):
            await pair.send(Call(method, path, body, headers, caller=caller))
        await pair.send(Call(method, f"{path}?access_token={alice}", body, headers, caller=None))
    assert not pair.differences, pair.report()


async def test_the_version_own_routes_and_documents(pair: Pair) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    await pair.send_all(
        [
            get("/apiv1/openapi.json", caller=None),
            get("/apiv1/docs", caller=None),
            get("/apiv1/docs/oauth2-redirect", caller=None),
            get("/apiv1/redoc", caller=None),
            get("/apiv1/.well-known/jwks.json", caller=None),
            get("/apiv1/users/me"),
            get("/apiv1/users/me", caller="nobody"),
            Call(
                "POST",
                "/apiv1/token",
                b"grant_type=password&username=alice&password=wrong",
                form,
                None,
            ),
            Call("POST", "/apiv1/token", b"grant_type=client_credentials", form, None),
            Call(
                "POST",
                "/apiv1/token",
                b'{"grant_type": "password"}',
                {"content-type": JSON_TYPE},
                None,
            ),
            Call("POST", "/apiv1/revoke", b"token=nonsense", form, None),
            get("/apiv1/token", caller=None),
            get("/api/items/", **{"api-version": "1"}),
            get("/api/items/1?api-version=v1"),
        ]
    )
    assert not pair.differences, pair.report()


COUNTED = ("gateway_requests_total{", "gateway_request_duration_seconds_count{")


async def counted(pair: Pair) -> tuple[list[str], list[str]]:
    """Each gateway's request counts by version, route, method and status, from /metrics."""
    found = []
    for gateway in (pair.tested, pair.reference):
        text = (await gateway.http.get("/metrics")).text
        found.append(sorted(line for line in text.splitlines() if line.startswith(COUNTED)))
    return found[0], found[1]


async def usage(gateway: GatewayClient) -> list[tuple[int, str, int]]:
    await gateway.services.usage.flush()
    rows = await usage_report(gateway.services.database)
    return [(row.version, row.principal, row.requests) for row in rows]


async def test_metrics_and_usage_count_alike(pair: Pair) -> None:
    # The route a request is counted under is the version's template, as the access log names it;
    # usage counts each call once, for its caller.
    await pair.send_all(
        [
            create({"name": "Pen", "price": 1}),
            create({"name": "Pen"}),
            get(f"{ITEMS}1"),
            get(f"{ITEMS}0"),
            get(f"{ITEMS}1", caller=None),
            get(ITEMS),
            get("/apiv1/items"),
            Call("PATCH", f"{ITEMS}1", b"{}", {"content-type": JSON_TYPE}),
            Call("PUT", ITEMS, b"{}", {"content-type": JSON_TYPE}),
            Call("DELETE", f"{ITEMS}1"),
            get("/apiv1/nothing"),
        ]
    )
    assert await usage(pair.tested) == await usage(pair.reference)
    tested, reference = await counted(pair)
    only = sorted(set(tested) ^ set(reference))
    assert tested == reference, "\n".join(
        f"{'tested   ' if line in tested else 'reference'} only: {line}" for line in only
    )
    assert any('route="/items/{item_id}"' in line for line in reference)


async def test_behind_a_proxy_prefix(pair: Pair) -> None:
    async with pair.behind("/gw") as proxied:
        await proxied.send_all(
            [
                create({"name": "Pen", "price": 1}, path="/gw/apiv1/items/"),
                create({"name": "Pen", "price": 1, "tags": []}, path="/gw/apiv1/items/"),
                get("/gw/apiv1/items/1"),
                get("/gw/apiv1/items"),
                get("/gw/apiv1/items/1/"),
                get("/gw/apiv1/items/", caller=None),
                Call("PATCH", "/gw/apiv1/items/1", b"{}", {"content-type": JSON_TYPE}),
                get("/gw/apiv1/openapi.json", caller=None),
                get("/gw/apiv1/docs", caller=None),
            ]
        )
    assert not pair.differences, pair.report()


async def test_a_difference_is_reported_with_the_request_and_both_answers(tmp_path: Path) -> None:
    # The comparison itself: a package whose v1 serves its own /users/me differs there.
    async with gateway_pair(tmp_path, SHIPPED, "tests.fixtures.own_users_me") as gateways:
        tested, reference = await gateways.send(get("/apiv1/users/me"))
        same, _ = await gateways.send(get("/apiv1/nothing"))
    assert (tested.status, reference.status) == (200, 200)
    assert reference.body == b'{"me":"alice"}'
    assert "x-request-id" not in tested.headers
    assert tested.headers["content-length"] == [str(len(tested.body))]
    assert same.status == 404
    (difference,) = gateways.differences
    assert difference.startswith("GET /apiv1/users/me as alice\n  tested:    200 ")
    assert "\n  reference: 200 " in difference
    assert '\n    {"me":"alice"}\n  bodies part at byte 2:\n' in difference
    assert difference.endswith("""    reference: ...b'{"me":"alice"}'""")
