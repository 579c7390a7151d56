"""Prometheus metrics: requests and latency by version and route, token issues and failures.

Each gateway gets its own ``CollectorRegistry``, never the process-wide default one, so that
tests (and anything else) can build many gateways in one process without "duplicated timeseries"
errors. The observability middleware puts the gateway's ``GatewayMetrics`` in a ``ContextVar``
for each request, which is how ``record_token_issued`` and ``record_token_failed`` find it from
inside a version's token endpoint without being handed anything; outside a request they do
nothing.

Label values are bounded so that a scanner cannot grow the series without limit: the route is
the template ("/items/{item_id}") or ``UNMATCHED``, never the raw path; a method outside the
standard ones is ``"other"``; a status is one of at most 500 numbers.

Each worker process (``gateway serve --workers N``) counts on its own and a scrape sees one of
them. prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) would merge them; it
is not supported here yet: it needs the directory set before import, a ``MultiProcessCollector``
in the endpoint and clean-up of dead workers' files.
"""

from __future__ import annotations

from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
GATEWAY_VERSION = ""  # the version label of the gateway's own routes
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# From a cached health check to an argon2 login (~0.25 s) to a slow database.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

_RequestKey = tuple[str, str, str, int]


class GatewayMetrics:
    """The gateway's metrics, on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_requests",
            "Requests answered, by version, route template, method and status.",
            ("version", "route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by version and route.",
            ("version", "route"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens_issued = Counter(
            "gateway_tokens_issued",
            "Access tokens issued, by version.",
            ("version",),
            registry=self.registry,
        )
        self.token_failures = Counter(
            "gateway_token_failures",
            "Token requests refused, by version and RFC 6749 error code.",
            ("version", "error"),
            registry=self.registry,
        )
        # ``labels()`` validates and locks on every call; the children are few, so keep them.
        self._request_children: dict[_RequestKey, Counter] = {}
        self._latency_children: dict[tuple[str, str], Histogram] = {}

    def observe(
        self, version: int | None, route: str | None, method: str, status: int, seconds: float
    ) -> None:
        """Count one answered request and its latency."""
        version_label = GATEWAY_VERSION if version is None else str(version)
        route_label = route or UNMATCHED
        key = (version_label, route_label, method if method in _METHODS else "other", status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self.requests.labels(*key[:3], str(status))
            self._request_children[key] = counter
        counter.inc()
        latency_key = (version_label, route_label)
        histogram = self._latency_children.get(latency_key)
        if histogram is None:
            histogram = self._latency_children[latency_key] = self.latency.labels(*latency_key)
        histogram.observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: the Prometheus text format, or OpenMetrics when the scraper asks."""
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        # Rendering is CPU work proportional to the number of series: keep it off the loop.
        body = await run_in_threadpool(encode, self.registry)
        return Response(body, headers={"Content-Type": content_type})


current_metrics: ContextVar[GatewayMetrics | None] = ContextVar("gateway_metrics", default=None)


def record_token_issued(version: int) -> None:
    """Count a token issued by ``version``'s token endpoint (no-op outside a gateway request)."""
    metrics = current_metrics.get()
    if metrics is not None:
        metrics.tokens_issued.labels(str(version)).inc()


def record_token_failed(version: int, error: str) -> None:
    """Count a refused token request by its RFC 6749 ``error`` code, e.g. ``invalid_grant``.

    ``error`` becomes a label: pass only codes from a fixed vocabulary, never free text.
    """
    metrics = current_metrics.get()
    if metrics is not None:
        metrics.token_failures.labels(str(version), error).inc()
