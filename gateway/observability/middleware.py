"""Request ids, the access log and metrics, in one pure-ASGI middleware around the dispatcher.

One middleware rather than three, because each layer costs a coroutine frame and a ``send``
wrapper on every request, and all three need the same facts: the request id, the status, the
latency and, from the request's ``RequestFacts`` that this middleware puts in the scope and the
layers inside fill in, which version, route and principal served it.

It is also the gateway's error boundary. The gateway's ``ServerErrorMiddleware`` sits outside
every added middleware, so a 500 it sent would carry no ``X-Request-ID`` and its log line no
request id: an unhandled error in one of the gateway's own routes is answered here instead, with
the gateway's handler for ``Exception``. A version answers its own errors (its own
``ServerErrorMiddleware``, inside the dispatcher) and then re-raises them, as Starlette does;
here they stop, so that each error is logged once, with its request id, rather than three times.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability.access_log import access_line, access_log, log_access
from gateway.observability.metrics import METRICS_PATH, GatewayMetrics, current_metrics
from gateway.observability.request_facts import FACTS_KEY, RequestFacts
from gateway.observability.request_id import (
    REQUEST_ID_HEADER,
    REQUEST_ID_KEY,
    current_request_id,
    install_request_id_records,
    request_id_from,
)
from gateway.settings import Settings

log = logging.getLogger("gateway")


def install_observability(gateway: FastAPI, settings: Settings) -> None:
    """Add request ids, the JSON access log and ``/metrics`` to ``gateway``.

    The metrics are kept on a registry of this gateway's own; every log record of the process
    gets a ``request_id`` attribute (``"-"`` outside a request).

    Call it after every other ``add_middleware`` (the dispatcher included): the middleware added
    last wraps the others, and this one must see every request and every response.
    """
    install_request_id_records()
    token = settings.metrics.token
    metrics = GatewayMetrics(token.get_secret_value() if token else None)
    gateway.add_route(METRICS_PATH, metrics.endpoint, methods=["GET"], include_in_schema=False)
    gateway.add_middleware(
        ObservabilityMiddleware,
        metrics=metrics,
        access_log=settings.server.access_log,
        exception_handlers=gateway.exception_handlers,
    )


class ObservabilityMiddleware:
    """Pure ASGI: ``X-Request-ID``, one access-log line and the request metrics per request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: GatewayMetrics,
        access_log: bool = True,
        exception_handlers: Mapping[Any, Callable[..., Any]] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        # The application's live mapping: handlers added after installation count too.
        self.exception_handlers = exception_handlers if exception_handlers is not None else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Lifespan, and websockets: a websocket's "latency" is its lifetime, and no version
            # serves one yet.
            await self.app(scope, receive, send)
            return
        started_at = time.time()
        start = time.perf_counter()
        raw_id = request_id_from(scope["headers"])
        id_header = (REQUEST_ID_HEADER, raw_id)
        request_id = raw_id.decode("ascii")
        scope[REQUEST_ID_KEY] = request_id
        scope[FACTS_KEY] = RequestFacts()
        id_token = current_request_id.set(request_id)
        metrics_token = current_metrics.set(self.metrics)
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                responded = True
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if not responded:
                # The gateway's own handler logs it (with the request id) and answers the 500.
                await self._answer_error(scope, receive, send_with_id, exc)
            elif status < 500:
                # A failure after a response started: the server logs it and drops the
                # connection, as Starlette intends.
                raise
            # Otherwise an error handler inside (a version's, or the gateway's for its own
            # routes) has logged it and answered the 500. Raising it again would only have the
            # server log it once more, after the request (and its id) is over.
        finally:
            self._record(scope, status, started_at, time.perf_counter() - start, request_id)
            current_metrics.reset(metrics_token)
            current_request_id.reset(id_token)

    async def _answer_error(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        # The same handler Starlette's ServerErrorMiddleware would pick: for 500 or Exception.
        handler = None
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                handler = value
        response: Response
        if handler is None:
            log.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
            response = PlainTextResponse("Internal Server Error", status_code=500)
        else:
            result = handler(Request(scope), exc)
            response = await result if inspect.isawaitable(result) else result
        await response(scope, receive, send)

    def _record(
        self, scope: Scope, status: int, started_at: float, seconds: float, request_id: str
    ) -> None:
        facts: RequestFacts = scope[FACTS_KEY]
        version, route = facts.version, facts.route
        if version is None:
            # The gateway's own routes: the router left the matched route in the scope.
            route = getattr(scope.get("route"), "path", None)
        method: str = scope["method"]
        self.metrics.observe(version, route, method, status, seconds)
        if self.access_log and access_log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            log_access(
                access_line(
                    started_at=started_at,
                    request_id=request_id,
                    method=method,
                    path=scope["path"],
                    version=version,
                    route=route,
                    status=status,
                    latency_ms=seconds * 1000,
                    principal=facts.principal,
                    client=client[0] if client else None,
                )
            )
