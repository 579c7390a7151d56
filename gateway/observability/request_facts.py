"""What the layers of one request learn about it, in one object they all share.

The observability middleware puts a ``RequestFacts`` in the request's ASGI scope before anything
else runs. The dispatcher's child scope for a version is a copy of that scope, so it holds the
same object: the dispatcher writes the version and the route, the bearer check and the token
route the principal, the rate limiter whether the call was counted, and the access log and
metrics read them at the end. Nothing is copied back from one scope to another.

A derived version hands a request to its successor's app with yet another copy of the scope, so
the successor's routes see the same facts: the version the client called, and the bearer token
already verified for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import Scope

FACTS_KEY = "gateway.facts"


@dataclass(slots=True)
class RequestFacts:
    """One request's facts; ``None`` until the layer that knows one has written it."""

    gateway_root: str = ""  # the gateway's own root path, above a version's mount
    version: int | None = None  # the version that served the request
    route: str | None = None  # the route template that matched, in that version
    principal: str | None = None  # who the bearer token (or the login) named
    claims: Any = None  # the bearer token's verified claims (``auth.tokens.Claims``), once checked
    counted: bool = False  # the call has been counted against the principal's rate limit


def request_facts(scope: Scope) -> RequestFacts:
    """The request's facts, created here for a scope that arrived without any (in tests)."""
    facts: RequestFacts | None = scope.get(FACTS_KEY)
    if facts is None:
        facts = scope[FACTS_KEY] = RequestFacts()
    return facts
