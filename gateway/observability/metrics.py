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

Requests and latencies are counted in plain dictionaries and handed to prometheus_client as a
custom collector at scrape time: a labelled ``Counter.inc`` and ``Histogram.observe`` take a lock
and validate on every call, work on every request for numbers read once every few seconds.
Token counts are rare and stay ordinary ``Counter`` objects.

``metrics.token``, when set, is a bearer token the scraper must send (Prometheus'
``authorization: credentials``); without it ``/metrics`` is open, for the proxy to restrict.

Each worker process (``gateway serve --workers N``) counts on its own and a scrape sees one of
them. prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) would merge them; it
is not supported here yet: it needs the directory set before import, a ``MultiProcessCollector``
in the endpoint and clean-up of dead workers' files.
"""

from __future__ import annotations

import hmac
from bisect import bisect_left
from collections.abc import Iterator
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
GATEWAY_VERSION = ""  # the version label of the gateway's own routes
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# From a cached health check to an argon2 login (~0.25 s) to a slow database.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# The "le" labels, written as prometheus_client writes them ("0.005", "1.0", "+Inf").
_BOUND_LABELS = [*(repr(float(bound)) for bound in _LATENCY_BUCKETS), "+Inf"]
_RequestKey = tuple[str, str, str, int]
_LatencyKey = tuple[str, str]


class _Latencies:
    """One histogram series: a count per bucket (not yet cumulative) and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(_LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0


class RequestCollector(Collector):
    """``gateway_requests_total`` and ``gateway_request_duration_seconds``, from plain counts."""

    def __init__(self) -> None:
        self.requests: dict[_RequestKey, int] = {}
        self.latencies: dict[_LatencyKey, _Latencies] = {}

    def observe(self, key: _RequestKey, seconds: float) -> None:
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        latencies = self.latencies.get(key[:2])
        if latencies is None:
            latencies = self.latencies[key[:2]] = _Latencies()
        # An observation equal to a bound belongs in that bucket (le = "less or equal").
        latencies.counts[bisect_left(_LATENCY_BUCKETS, seconds)] += 1
        latencies.total += seconds

    def collect(self) -> Iterator[Metric]:
        # Scrapes run in a worker thread; copies are made under the GIL in one C call each.
        requests = self.requests.copy()
        latencies = {
            key: (list(value.counts), value.total) for key, value in self.latencies.copy().items()
        }
        counter = CounterMetricFamily(
            "gateway_requests",
            "Requests answered, by version, route template, method and status.",
            labels=("version", "route", "method", "status"),
        )
        for (version, route, method, status), count in sorted(requests.items()):
            counter.add_metric([version, route, method, str(status)], count)
        yield counter
        histogram = HistogramMetricFamily(
            "gateway_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by version and route.",
            labels=("version", "route"),
        )
        for (version, route), (counts, total) in sorted(latencies.items()):
            cumulative, buckets = 0, []
            for bound, count in zip(_BOUND_LABELS, counts, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            histogram.add_metric([version, route], buckets, total)
        yield histogram


class GatewayMetrics:
    """The gateway's metrics, on a registry of their own."""

    def __init__(self, token: str | None = None) -> None:
        self._expected = f"Bearer {token}".encode() if token else None
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = RequestCollector()
        self.registry.register(self.requests)
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

    def observe(
        self, version: int | None, route: str | None, method: str, status: int, seconds: float
    ) -> None:
        """Count one answered request and its latency."""
        self.requests.observe(
            (
                GATEWAY_VERSION if version is None else str(version),
                route or UNMATCHED,
                method if method in _METHODS else "other",
                status,
            ),
            seconds,
        )

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: the Prometheus text format, or OpenMetrics when the scraper asks."""
        if not self._authorised(request):
            return Response(
                "A bearer token is required for /metrics\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        # Rendering is CPU work proportional to the number of series: keep it off the loop.
        body = await run_in_threadpool(encode, self.registry)
        return Response(body, headers={"Content-Type": content_type})

    def _authorised(self, request: Request) -> bool:
        if self._expected is None:
            return True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        given = f"Bearer {token.strip()}" if scheme.lower() == "bearer" else ""
        # In constant time, so the response time tells a guesser nothing about the token.
        return hmac.compare_digest(given.encode(), self._expected)


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
