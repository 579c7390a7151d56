"""A chain of derived versions through the whole gateway: v1 over v2 over v3 (tests/fixtures/chain).

Each hop moves requests forward and responses back in its own terms: nested objects, arrays of
objects, pages, 422 locations. The caller is checked once, by the version called, and goes along
to the head of the chain; that version alone counts the call for usage and rate limits, names
the realm of every refusal, and answers 410 when retired, while a retired successor still serves
the versions derived from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from gateway import Settings
from gateway.services import Services
from gateway.usage.recorder import usage_report
from tests.conftest import AddUser, bearer, login

pytestmark = pytest.mark.anyio

CHAIN = {"package": "tests.fixtures.chain", "entry_points": False}
BOOK_SCOPES = ("books:read", "books:write")
DUNE_V1 = {"name": "Dune", "author": {"name": "Frank Herbert"}}
DUNE_V3 = {"heading": "Dune", "author": {"full_name": "Frank Herbert", "country": "NL"}}


@pytest.fixture
def settings(make_settings: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    # A test sets [versions.v<N>] tables with @pytest.mark.parametrize("settings", ..., indirect).
    tables: dict[str, Any] = getattr(request, "param", {})
    return make_settings(versions={**CHAIN, **tables})


def versions_set(**tables: dict[str, str]) -> Any:
    return pytest.mark.parametrize("settings", [tables], indirect=True)


@pytest.fixture
async def tokens(client: httpx.AsyncClient, add_user: AddUser) -> dict[int, dict[str, str]]:
    """Alice's bearer header for each version, by number."""
    await add_user("alice", scopes=BOOK_SCOPES)
    return {version: bearer(await login(client, version)) for version in (1, 2, 3)}


def exact(response: httpx.Response) -> bytes:
    """The body, once its ``Content-Length`` is checked against it."""
    assert "transfer-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(response.content)), response.headers
    return response.content


def compact(value: object) -> bytes:
    """``value`` encoded as the gateway encodes JSON bodies."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


async def test_a_book_added_through_v1_is_moved_forward_and_back_at_each_hop(
    client: httpx.AsyncClient, tokens: dict[int, dict[str, str]]
) -> None:
    created = await client.post("/apiv1/books/", headers=tokens[1], json=DUNE_V1)
    assert created.status_code == 201, created.text
    expected_v1 = {"id": 1, **DUNE_V1, "added_by": "alice"}
    assert exact(created) == compact(expected_v1)

    v3 = await client.get("/apiv3/books/1", headers=tokens[3])
    assert exact(v3) == compact({"id": 1, **DUNE_V3, "labels": [], "added_by": "alice"})
    v2 = await client.get("/apiv2/books/1", headers=tokens[2])
    v2_author = {"name": "Frank Herbert", "country": "NL"}
    expected_v2 = {"id": 1, "title": "Dune", "author": v2_author, "labels": [], "added_by": "alice"}
    assert exact(v2) == compact(expected_v2)
    v1 = await client.get("/apiv1/books/1", headers=tokens[1])
    assert exact(v1) == compact(expected_v1)


async def test_nested_objects_and_arrays_of_objects_move_both_ways(
    client: httpx.AsyncClient, tokens: dict[int, dict[str, str]]
) -> None:
    sent = {
        "title": "Emma",
        "author": {"name": "Jane Austen", "country": "GB"},
        "labels": [{"tag": "novel"}, {"tag": "1815"}],
    }
    created = await client.post("/apiv2/books/", headers=tokens[2], json=sent)
    assert created.status_code == 201, created.text
    assert exact(created) == compact({"id": 1, **sent, "added_by": "alice"})
    v3 = (await client.get("/apiv3/books/1", headers=tokens[3])).json()
    assert v3["author"] == {"full_name": "Jane Austen", "country": "GB"}
    assert v3["labels"] == [{"text": "novel"}, {"text": "1815"}]
    v1 = await client.get("/apiv1/books/1", headers=tokens[1])
    assert exact(v1) == compact(
        {"id": 1, "name": "Emma", "author": {"name": "Jane Austen"}, "added_by": "alice"}
    )


async def test_pages_are_moved_back_item_by_item_at_each_hop(
    client: httpx.AsyncClient, tokens: dict[int, dict[str, str]]
) -> None:
    for heading in ("A", "B", "C"):
        body = {"heading": heading, "author": {"full_name": "Anon", "country": "FR"}}
        body["labels"] = [{"text": heading.lower()}]
        assert (await client.post("/apiv3/books/", headers=tokens[3], json=body)).is_success

    def book(version: int, number: int, heading: str) -> dict[str, Any]:
        names = {3: "heading", 2: "title", 1: "name"}
        author: dict[str, str] = {"full_name" if version == 3 else "name": "Anon"}
        shown: dict[str, Any] = {"id": number, names[version]: heading, "author": author}
        if version > 1:
            author["country"] = "FR"
            shown["labels"] = [{"text" if version == 3 else "tag": heading.lower()}]
        return {**shown, "added_by": "alice"}

    nexts = {3: "next", 2: "next_cursor", 1: "more"}
    for version in (3, 2, 1):
        first = await client.get(f"/apiv{version}/books/?limit=2", headers=tokens[version])
        expected = {"data": [book(version, 1, "A"), book(version, 2, "B")], nexts[version]: "2"}
        assert exact(first) == compact(expected), version
        rest = await client.get(f"/apiv{version}/books/?limit=2&after=2", headers=tokens[version])
        assert exact(rest) == compact({"data": [book(version, 3, "C")], nexts[version]: None})


async def test_the_caller_goes_along_to_the_head_of_the_chain(
    client: httpx.AsyncClient, tokens: dict[int, dict[str, str]], add_user: AddUser
) -> None:
    await add_user("bob", scopes=BOOK_SCOPES)
    bob = bearer(await login(client, 1, "bob"))
    created = await client.post("/apiv1/books/", headers=bob, json=DUNE_V1)
    assert created.json()["added_by"] == "bob"
    assert (await client.get("/apiv3/books/1", headers=tokens[3])).json()["added_by"] == "bob"
    assert (await client.delete("/apiv1/books/1", headers=tokens[1])).status_code == 204
    assert (await client.get("/apiv3/books/1", headers=tokens[3])).status_code == 404


async def test_422_locations_and_inputs_are_the_called_version_s_own(
    client: httpx.AsyncClient, tokens: dict[int, dict[str, str]]
) -> None:
    # v1 never had labels (quarantined through two hops) nor an author's country (filled in).
    refused = await client.post(
        "/apiv1/books/", headers=tokens[1], json={"name": "", "author": {}, "labels": []}
    )
    assert refused.status_code == 422
    assert exact(refused) == compact(
        {
            "detail": [
                {
                    "type": "string_too_short",
                    "loc": ["body", "name"],
                    "msg": "String should have at least 1 character",
                    "input": "",
                    "ctx": {"min_length": 1},
                },
                {
                    "type": "missing",
                    "loc": ["body", "author", "name"],
                    "msg": "Field required",
                    "input": {},
                },
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "labels"],
                    "msg": "Extra inputs are not permitted",
                    "input": [],
                },
            ]
        }
    )
    # An author's country means nothing to v1 (its Author is open): dropped, not checked.
    accepted = await client.post(
        "/apiv1/books/",
        headers=tokens[1],
        json={"name": "Dune", "author": {"name": "Frank Herbert", "country": "nl"}},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["author"] == {"name": "Frank Herbert"}

    refused = await client.post(
        "/apiv2/books/",
        headers=tokens[2],
        json={
            "title": 5,
            "author": {"name": "X", "country": "nl"},
            "labels": [{"tag": 1}, {"text": "a"}],
        },
    )
    assert [(e["type"], e["loc"], e["input"]) for e in refused.json()["detail"]] == [
        ("string_type", ["body", "title"], 5),
        ("string_pattern_mismatch", ["body", "author", "country"], "nl"),
        ("string_type", ["body", "labels", 0, "tag"], 1),
        ("missing", ["body", "labels", 1, "tag"], {"text": "a"}),
    ]
    assert (await client.get("/apiv3/books/", headers=tokens[3])).json()["data"][0]["id"] == 1


async def test_every_refusal_names_the_called_version_as_its_realm(
    client: httpx.AsyncClient, tokens: dict[int, dict[str, str]], add_user: AddUser
) -> None:
    anonymous = await client.get("/apiv1/books/")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="apiv1"'

    wrong_audience = await client.get("/apiv1/books/", headers=tokens[2])
    assert wrong_audience.status_code == 401
    assert wrong_audience.headers["www-authenticate"].startswith(
        'Bearer realm="apiv1", error="invalid_token"'
    )

    await add_user("reader", scopes=("books:read",))
    reader = bearer(await login(client, 1, "reader"))
    unscoped = await client.post("/apiv1/books/", headers=reader, json=DUNE_V1)
    assert unscoped.status_code == 403
    assert unscoped.headers["www-authenticate"] == (
        'Bearer realm="apiv1", error="insufficient_scope", '
        'error_description="This request needs the scope books:write", scope="books:write"'
    )

    # Refused by v3's handler itself, two hops away: the realm is still the version called.
    for version in (1, 2, 3):
        vault = await client.get(f"/apiv{version}/vault", headers=tokens[version])
        assert vault.status_code == 403
        assert vault.headers["www-authenticate"] == (
            f'Bearer realm="apiv{version}", error="insufficient_scope", '
            'error_description="The vault opens to librarians", scope="books:vault"'
        )
        assert exact(vault) == compact(
            {
                "error": "insufficient_scope",
                "error_description": "The vault opens to librarians",
                "detail": "The vault opens to librarians",
                "scope": "books:vault",
            }
        )


async def test_one_usage_count_per_request_for_the_called_version(
    app: FastAPI, client: httpx.AsyncClient, add_user: AddUser
) -> None:
    await add_user("alice", scopes=BOOK_SCOPES)
    v1 = bearer(await login(client, 1))
    assert (await client.post("/apiv1/books/", headers=v1, json=DUNE_V1)).status_code == 201
    for _ in range(3):
        assert (await client.get("/apiv1/books/1", headers=v1)).status_code == 200
    listing = {v["number"]: v for v in (await client.get("/versions")).json()["versions"]}
    assert {n: listing[n]["requests_24h"] for n in (1, 2, 3)} == {1: 5, 2: 0, 3: 0}
    services: Services = app.state.gateway
    await services.usage.flush()
    rows = await usage_report(services.database)
    assert [(r.version, r.principal, r.requests) for r in rows] == [(1, "alice", 5)]


@pytest.mark.parametrize(
    "settings",
    [
        {
            "v1": {"rate_limit": "2/minute"},
            "v2": {"rate_limit": "1/minute"},
            "v3": {"rate_limit": "1/minute"},
        }
    ],
    indirect=True,
)
async def test_one_rate_limit_count_per_request_for_the_called_version(
    client: httpx.AsyncClient, tokens: dict[int, dict[str, str]]
) -> None:
    # Counted twice, the second call would be refused; counted by v2 or v3 too, the second call
    # would spend a budget of one that is already spent.
    assert (await client.get("/apiv1/books/", headers=tokens[1])).status_code == 200
    assert (await client.get("/apiv1/books/", headers=tokens[1])).status_code == 200
    throttled = await client.get("/apiv1/books/", headers=tokens[1])
    assert throttled.status_code == 429
    assert "2 per 1 minute" in throttled.json()["detail"]
    # v2's and v3's own budgets are whole: the hops spent nothing of them.
    for version in (2, 3):
        assert (await client.get(f"/apiv{version}/books/", headers=tokens[version])).is_success
        again = await client.get(f"/apiv{version}/books/", headers=tokens[version])
        assert again.status_code == 429


@versions_set(v1={"status": "retired"})
async def test_a_retired_derived_version_is_gone_and_its_successors_serve(
    client: httpx.AsyncClient, add_user: AddUser
) -> None:
    await add_user("alice", scopes=BOOK_SCOPES)
    for path in ("/apiv1/books/", "/apiv1/books/1", "/apiv1/token", "/apiv1/docs"):
        gone = await client.get(path)
        assert gone.status_code == 410, path
        assert gone.json()["error"] == "version_retired"
        assert 'rel="successor-version"' in gone.headers["link"]
    v2 = bearer(await login(client, 2))
    assert (await client.get("/apiv2/books/", headers=v2)).json() == {
        "data": [],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    "settings",
    [
        {"v2": {"status": "retired"}},
        {"v3": {"status": "retired"}},
        {"v2": {"status": "retired"}, "v3": {"status": "retired"}},
    ],
    indirect=True,
    ids=["v2", "v3", "v2 and v3"],
)
async def test_a_retired_successor_still_serves_the_versions_derived_from_it(
    client: httpx.AsyncClient, add_user: AddUser, settings: Settings
) -> None:
    await add_user("alice", scopes=BOOK_SCOPES)
    v1 = bearer(await login(client, 1))
    created = await client.post("/apiv1/books/", headers=v1, json=DUNE_V1)
    assert created.status_code == 201, created.text
    assert exact(created) == compact({"id": 1, **DUNE_V1, "added_by": "alice"})
    page = await client.get("/apiv1/books/", headers=v1)
    assert exact(page) == compact({"data": [created.json()], "more": None})
    for version in (2, 3):
        retired = settings.versions.for_version(version).status == "retired"
        answer = await client.get(f"/apiv{version}/books/")
        assert (answer.status_code == 410) is retired, (version, answer.status_code)


class MessageRecorder:
    """The gateway as an ASGI app that keeps every body message it sends, by request path."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.bodies: dict[str, list[bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bodies = self.bodies.setdefault(scope["path"], [])

        async def record(message: Message) -> None:
            if message["type"] == "http.response.body":
                bodies.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, record)


async def test_a_streaming_route_passes_untouched_through_the_hops(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[int, dict[str, str]]
) -> None:
    await client.post("/apiv1/books/", headers=tokens[1], json=DUNE_V1)
    recorder = MessageRecorder(app)
    transport = httpx.ASGITransport(app=recorder)
    answers = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for version in (3, 2, 1):
            response = await http.get(f"/apiv{version}/books/1/text", headers=tokens[version])
            headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
            answers[version] = (response.status_code, headers, response.content)
    lines = [b"Dune, line 1\n", b"Dune, line 2\n", b"Dune, line 3\n"]
    assert answers[3] == (200, {"content-type": "text/plain; charset=utf-8"}, b"".join(lines))
    assert answers[2] == answers[1] == answers[3]
    for version in (3, 2, 1):
        # Chunk by chunk, as the head of the chain streamed them: nothing held or re-encoded.
        assert recorder.bodies[f"/apiv{version}/books/1/text"] == [*lines, b""], version
