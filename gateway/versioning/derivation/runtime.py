"""``DerivedRoute``: one successor operation served under the old version's path and terms.

It matches as FastAPI's routes do (the old template, exactly the successor's method, no implicit
``HEAD``), so 404, 405 with ``Allow``, slash redirects and the route template in the access log
are a hand-written version's. A matched request is moved forward and handed to the successor's
app in process, with a copy of the scope: the same ``RequestFacts`` (so the bearer check of the
successor's own route verifies the token once, for the version the client called, and counts
the call once), and the old version's mount as the root path (so URLs the successor builds name
the old version). Bodies are read only where a plan applies, and a response is held only when a
plan applies to its status and it is JSON; anything else, streaming included, passes untouched.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth.bearer import bearer_token, verified_claims
from gateway.errors import BearerError
from gateway.observability.request_facts import request_facts
from gateway.versioning.derivation.instances import back, forward
from gateway.versioning.derivation.json_types import (
    MISSING,
    JsonValue,
    Missing,
    OldRequest,
    OldResponse,
)
from gateway.versioning.derivation.plans import OperationPlan
from gateway.versioning.derivation.validation_errors import errors_back
from gateway.versioning.finite_numbers import body_errors, is_json, read_body, replay

Body = JsonValue | Missing

# The successor's route state, which must not leak into its own routing.
_ROUTING_KEYS = ("route", "endpoint", "path_params")


class DerivedRoute(Route):
    """A route of the derived app that serves ``plan``'s operation through ``successor``."""

    def __init__(
        self, plan: OperationPlan, successor: ASGIApp, *, untyped_json: bool = False
    ) -> None:
        super().__init__(
            plan.old_path,
            DerivedOperation(plan, successor, untyped_json=untyped_json),
            methods=[plan.old_method],
            name=plan.name,
        )
        self.methods = {plan.old_method}  # as FastAPI's routes: no HEAD for a GET
        self.plan = plan
        self.untyped_json = untyped_json

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self  # as FastAPI's routes: the access log's template
        return match, child_scope


class DerivedOperation:
    """The ASGI app behind a ``DerivedRoute``."""

    def __init__(self, plan: OperationPlan, successor: ASGIApp, *, untyped_json: bool) -> None:
        self.plan = plan
        # Whether the successor reads a body sent without a content type as JSON (FastAPI's
        # strict_content_type=False): the old request is then read as JSON too.
        self.untyped_json = untyped_json
        self.successor = successor
        self.new_path = _path_builder(plan.path) if plan.path != plan.old_path else None
        self.reads_body = plan.reads_body  # decided once: these are asked on every request
        self.rewrites_responses = plan.rewrites_responses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.plan
        request_facts(scope)  # before the copy, so that the successor shares them
        child = dict(scope)
        for key in _ROUTING_KEYS:
            child.pop(key, None)
        if plan.old_method != plan.method:
            child["method"] = plan.method
        if self.new_path is not None:
            _set_path(
                child, scope.get("root_path", ""), self.new_path(scope.get("path_params", {}))
            )
        old_body: Body = MISSING
        mapped = False
        json_body = self.reads_body and self._is_json(Headers(scope=scope).get("content-type"))
        if json_body or plan.request_converters:
            if plan.needs_principal:
                await _identify(scope)
            messages, raw = await read_body(receive)
            moved = self._forward(scope, raw, child, json_body)
            if moved is None:
                receive = replay(messages, receive)
            else:
                old_body, body = moved
                mapped = plan.request is not None
                child["headers"] = _with_length(child["headers"], len(body))
                receive = replay([{"type": "http.request", "body": body}], receive)
        if self.rewrites_responses:
            # A compressed body could not be moved back: the successor answers uncompressed,
            # and the gateway's own middleware compresses what the client gets, if any.
            child["headers"] = [(k, v) for k, v in child["headers"] if k != b"accept-encoding"]
            send = _Back(plan, send, old_body if mapped else MISSING)
        await self.successor(child, receive, send)

    def _is_json(self, content_type: str | None) -> bool:
        return self.untyped_json if content_type is None else is_json(content_type)

    def _forward(
        self, scope: Scope, raw: bytes, child: Scope, json_body: bool
    ) -> tuple[Body, bytes] | None:
        """The old body and the forwarded one, or ``None`` to forward the body as it came:
        not JSON, or holding numbers JSON cannot carry (the successor's guard reports them at
        the place the client wrote them, in the client's names). Endpoint converters may also
        change the method, path, query and headers, which go into ``child``."""
        old: Body = MISSING
        if json_body and raw and not body_errors(raw):
            try:
                old = json.loads(raw)
            except ValueError:
                old = MISSING
        body = old
        if self.plan.request_converters:
            request = _old_request(scope, old)
            for convert in self.plan.request_converters:
                request = convert(request)
            _apply_request(child, scope, request)
            body = request.body
        if self.plan.request is not None and not isinstance(body, Missing):
            body = forward(self.plan.request, body, lambda: _old_request(scope, old))
        if isinstance(body, Missing):
            return None  # the body goes on as it came
        return old, json.dumps(body, separators=(",", ":")).encode()


class RouterHop:
    """The hop to the successor through its router alone, past the middleware of its app, when
    that middleware would do what the derived app's already did: the same exception handlers
    (the gateway shares its own with every version at startup, and Starlette hands a route the
    handlers of the app it came through), the same body limit, and no middleware of its own.
    Each app's stack costs a derived request as much as its JSON work (docs/bench.md)."""

    def __init__(self, successor: FastAPI) -> None:
        self.successor = successor
        self.direct: bool | None = None  # decided at the first request, after startup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.direct is None:
            self.direct = _same_stack(scope["app"], self.successor)
        if self.direct:
            await self.successor.router(scope, receive, send)
        else:
            await self.successor(scope, receive, send)


def _same_stack(app: FastAPI, successor: FastAPI) -> bool:
    return (
        not successor.user_middleware
        and successor.exception_handlers == app.exception_handlers
        and getattr(successor, "max_body_size", None) == getattr(app, "max_body_size", None)
    )


class _Back:
    """The ``send`` that moves the successor's response back: held only when a plan applies to
    its status and it is JSON, re-encoded as Starlette's ``JSONResponse`` encodes, with a
    ``content-length`` that matches. Every other header is kept."""

    def __init__(self, plan: OperationPlan, send: Send, old_body: Body) -> None:
        self.plan, self.send, self.old_body = plan, send, old_body
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            status: int = message["status"]
            old_status = self.plan.statuses.get(status, status)
            if old_status != status:
                message = {**message, "status": old_status}
            headers = message.get("headers", [])
            if (
                self.plan.holds(status)
                and is_json(_content_type(headers))
                and not _encoded(headers)
            ):
                self.start = {**message, "new_status": status}
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._release()
            return
        await self.send(message)

    async def _release(self) -> None:
        start, self.start = self.start, None
        assert start is not None
        status = start.pop("new_status")
        raw = b"".join(self.chunks)
        try:
            body: Body = json.loads(raw)
        except ValueError:
            await self.send(start)
            await self.send({"type": "http.response.body", "body": raw})
            return
        body = self._moved_back(status, body)
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        if self.plan.response_converters:
            response = OldResponse(start["status"], _decoded(headers), body)
            for convert in self.plan.response_converters:
                response = convert(response)
            start["status"], body = response.status, response.body
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        bodiless = start["status"] in (204, 304) or start["status"] < 200
        if bodiless:
            body = MISSING  # these carry no body (RFC 9110 6.4.1)
            headers = [(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS]
        encoded = b"" if isinstance(body, Missing) else _encode(body)
        if not bodiless:
            headers = _with_length(headers, len(encoded))
        start["headers"] = headers
        await self.send(start)
        await self.send({"type": "http.response.body", "body": encoded})

    def _moved_back(self, status: int, body: Body) -> Body:
        plan = self.plan.responses.get(status)
        if isinstance(body, Missing):
            return body
        if plan is not None:
            return back(plan, body)
        request_plan = self.plan.request
        if status == 422 and request_plan is not None and not isinstance(self.old_body, Missing):
            detail = body.get("detail") if isinstance(body, dict) else None
            if isinstance(body, dict) and isinstance(detail, list):
                return {**body, "detail": errors_back(request_plan, detail, self.old_body)}
        return body


def _encode(body: JsonValue) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8"
        )
    except UnicodeEncodeError:  # a lone surrogate: only an escaped form is valid UTF-8
        return json.dumps(body, allow_nan=False, separators=(",", ":")).encode()


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    """``headers`` with a ``content-length`` of ``length``, where the old one was (first, as
    Starlette writes it, when there was none), and no ``transfer-encoding``."""
    value = str(length).encode()
    kept = [(name, value) for name, value in headers if name.lower() != b"transfer-encoding"]
    at = next((i for i, (name, _) in enumerate(kept) if name.lower() == b"content-length"), None)
    if at is None:
        return [(b"content-length", value), *kept]
    kept[at] = (b"content-length", value)
    return kept


_BODY_HEADERS = (b"content-length", b"content-type", b"transfer-encoding")


def _encoded(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the body is compressed (or otherwise content-coded), so not JSON as it is."""
    return any(
        name.lower() == b"content-encoding" and value.strip().lower() != b"identity"
        for name, value in headers
    )


def _apply_request(child: Scope, scope: Scope, request: OldRequest) -> None:
    """What an endpoint converter changed about the request, other than its body."""
    if request.method != scope["method"]:
        child["method"] = request.method
    if request.path != scope["path"]:
        _set_path(child, "", request.path)
    child["query_string"] = urlencode(list(request.query)).encode("latin-1")
    child["headers"] = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers
    ]


def _content_type(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return ""


def _decoded(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


async def _identify(scope: Scope) -> None:
    """Verify the caller's token before the successor does, for a converter that needs the
    principal; the successor's check then finds it verified. A request the successor would
    refuse is left for it to refuse."""
    if bearer_token(Headers(scope=scope)) is not None:
        with contextlib.suppress(BearerError):
            await verified_claims(scope, scope["app"].state.gateway)


def _old_request(scope: Scope, body: Any) -> OldRequest:
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return OldRequest(
        method=scope["method"],
        path=scope["path"],
        path_params={k: str(v) for k, v in scope.get("path_params", {}).items()},
        query=query,
        headers=_decoded(scope["headers"]),
        principal=request_facts(scope).principal,
        body=body,
    )


def _path_builder(template: str) -> Callable[[dict[str, Any]], str]:
    def build(params: dict[str, Any]) -> str:
        path = template
        for name, value in params.items():
            path = path.replace("{" + name + "}", str(value))
        return path

    return build


def _set_path(child: Scope, root_path: str, route_path: str) -> None:
    """``path`` is decoded text; ``raw_path`` the bytes a client would have sent for it."""
    child["path"] = root_path + route_path
    child["raw_path"] = quote(child["path"], safe="/:@!$&'()*+,;=-._~").encode("ascii")
