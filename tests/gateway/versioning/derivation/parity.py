"""Two gateways that should answer alike, and what it takes to say that they do.

Each gateway runs in process (httpx over ASGI, through the whole gateway: middleware, dispatch,
the version's own stack) on a fresh database of its own with the same users (one password hash,
one creation time, which ``/users/me`` shows), and gets the same requests in the same order, so
ids line up. Both have the same signing key, so one token serves both and the requests are the
same bytes.

An answer is its status, its body bytes and its headers. Headers are compared by name, each
name's values in order; the order between different names carries no meaning in HTTP and is
left out. One header is left out altogether: ``x-request-id``, which each gateway makes anew for
every request. In-process calls have no ``date`` or ``server`` header (uvicorn adds those), so
nothing else differs by nature.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import update

from gateway import Settings
from gateway.auth.users import User, UserStore
from gateway.testing import GatewayClient, running_gateway
from tests.conftest import PASSWORD, SECRET

# Made anew by each gateway for every request (STANDARDS 25).
UNCOMPARED_HEADERS = frozenset({"x-request-id"})
# The callers a request can name: each is a user on both gateways, with these scopes.
USERS = {"alice": ("items:read", "items:write"), "reader": ("items:read",), "nobody": ()}
USERS_CREATED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SHOWN_BODY = 600  # characters of a body shown when two answers differ


@dataclass(frozen=True)
class Call:
    """One request, with the caller it carries as a name (see ``Pair.headers``)."""

    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    caller: str | None = "alice"

    def __str__(self) -> str:
        body = "" if self.body is None else f" body={self.body[:200]!r}"
        headers = f" headers={dict(self.headers)}" if self.headers else ""
        return f"{self.method} {self.path} as {self.caller}{headers}{body}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        headers: dict[str, list[str]] = {}
        for name, value in response.headers.multi_items():
            if name not in UNCOMPARED_HEADERS:
                headers.setdefault(name, []).append(value)
        return cls(response.status_code, headers, response.content)

    def __str__(self) -> str:
        body = self.body.decode(errors="replace")
        if len(body) > SHOWN_BODY:
            body = body[:SHOWN_BODY] + f"... ({len(self.body)} bytes)"
        return f"{self.status} {self.headers}\n    {body}"


def settings_for(folder: Path, package: str) -> Settings:
    """A gateway on ``package`` with its database in ``folder``; v1 deprecated, so that the
    lifecycle headers are compared too."""
    return Settings(
        database={"url": f"sqlite+aiosqlite:///{folder / 'gateway.db'}"},
        auth={"secret_key": SECRET, "secret_key_file": str(folder / "secret.key")},
        ratelimit={
            "login_per_account": "1000/minute",
            "login_per_address": "1000/minute",
            "authenticated": "10000/minute",
        },
        versions={
            "package": package,
            "entry_points": False,
            "v1": {"status": "deprecated", "deprecated_at": date(2026, 11, 1)},
        },
    )


@dataclass
class Pair:
    """The gateway under test and the reference, called alike; differences are collected."""

    tested: GatewayClient
    reference: GatewayClient
    tokens: dict[str, str]
    differences: list[str] = field(default_factory=list)

    def headers(self, call: Call) -> dict[str, str]:
        if call.caller is None:
            return dict(call.headers)
        return {"Authorization": f"Bearer {self.tokens[call.caller]}", **call.headers}

    async def send(self, call: Call) -> tuple[Answer, Answer]:
        """Both answers to ``call``; a difference between them is noted, with the request."""
        answers = []
        for gateway in (self.tested, self.reference):
            response = await gateway.http.request(
                call.method, call.path, headers=self.headers(call), content=call.body
            )
            answers.append(Answer.of(response))
        tested, reference = answers
        if tested != reference:
            shown = f"{call}\n  tested:    {tested}\n  reference: {reference}"
            if tested.body != reference.body:
                shown += "\n" + where_bodies_part(tested.body, reference.body)
            self.differences.append(shown)
        return tested, reference

    async def send_all(self, calls: list[Call]) -> None:
        for call in calls:
            await self.send(call)

    @asynccontextmanager
    async def behind(self, root_path: str) -> AsyncIterator[Pair]:
        """The same gateways, called as a proxy that serves them under ``root_path`` does."""
        async with AsyncExitStack() as stack:
            clients = []
            for gateway in (self.tested, self.reference):
                transport = httpx.ASGITransport(app=gateway.app, root_path=root_path)
                http = httpx.AsyncClient(transport=transport, base_url=str(gateway.http.base_url))
                clients.append(GatewayClient(gateway.app, await stack.enter_async_context(http)))
            proxied = Pair(clients[0], clients[1], self.tokens)
            yield proxied
            self.differences += proxied.differences

    def report(self) -> str:
        return f"{len(self.differences)} answers differ:\n\n" + "\n\n".join(self.differences)


def where_bodies_part(tested: bytes, reference: bytes, around: int = 120) -> str:
    """The first byte at which two bodies differ, with what surrounds it in each."""
    offset = next(
        (i for i, (a, b) in enumerate(zip(tested, reference, strict=False)) if a != b),
        min(len(tested), len(reference)),
    )
    start = max(0, offset - around)
    return (
        f"  bodies part at byte {offset}:\n"
        f"    tested:    ...{tested[start : offset + around]!r}\n"
        f"    reference: ...{reference[start : offset + around]!r}"
    )


async def add_users(gateway: GatewayClient, password_hash: str) -> None:
    """The users of ``USERS``, with one password hash and one creation time, so that
    ``/users/me`` is alike in both gateways."""
    async with gateway.services.database.sessions() as session:
        for username, scopes in USERS.items():
            await UserStore(session).add(username, password_hash, scopes)
        await session.execute(update(User).values(created_at=USERS_CREATED_AT))
        await session.commit()


@asynccontextmanager
async def gateway_pair(folder: Path, tested: str, reference: str) -> AsyncIterator[Pair]:
    """Gateways on the ``tested`` and ``reference`` versions packages, each with the users of
    ``USERS``, and tokens of v1 and v2 for each user (``"alice"``, ``"alice of v2"``)."""
    async with AsyncExitStack() as stack:
        gateways = []
        for name, package in (("tested", tested), ("reference", reference)):
            settings = settings_for(folder / name, package)
            gateways.append(await stack.enter_async_context(running_gateway(settings)))
        password_hash = await gateways[0].services.passwords.hash(PASSWORD)
        for gateway in gateways:
            await add_users(gateway, password_hash)
        tokens: dict[str, str] = {}
        issue = gateways[0].services.tokens.issue  # as the token routes do, with no password work
        for username, scopes in USERS.items():
            tokens[username] = issue(username, "apiv1", scopes).access_token
            tokens[f"{username} of v2"] = issue(username, "apiv2", scopes).access_token
        yield Pair(gateways[0], gateways[1], tokens)
