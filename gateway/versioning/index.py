"""The gateway's own routes: the version index (``/``, ``/versions``) and health (``/healthz``,
``/readyz``). Every URL they print includes the ``root_path``, so they are right behind a proxy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from gateway.services import Services, ServicesDep
from gateway.usage.overview import requests_per_day, top_callers
from gateway.usage.recorder import VersionActivity
from gateway.version_info import VersionInfo
from gateway.versioning.index_page import WITH_CALLERS, UsageOverview, render_index
from gateway.versioning.lifecycle import iso_day

log = logging.getLogger("gateway")
READY_TIMEOUT_SECONDS = 2.0
T = TypeVar("T")

router = APIRouter()


def version_entry(version: VersionInfo, root_path: str) -> dict[str, Any]:
    base = root_path + version.path
    return {
        "number": version.number,
        "path": base,
        "status": version.status,
        "deprecated_at": iso_day(version.deprecated_at),
        "sunset": iso_day(version.sunset),
        "successor": version.successor,
        "docs_url": f"{base}/docs",
        "redoc_url": f"{base}/redoc",
        "openapi_url": f"{base}/openapi.json",
        "token_url": f"{base}/token",
    }


# What an unreadable database looks like to a read of the counts: driver, SQLAlchemy or the OS.
USAGE_UNAVAILABLE = (SQLAlchemyError, OSError)


async def _counts_or_none(read: Callable[[], Awaitable[T]]) -> T | None:
    try:
        return await read()
    except USAGE_UNAVAILABLE as error:
        # The listing matters more than its counts: serve it without them.
        log.warning("usage counts unavailable: %s", type(error).__name__)
        return None


async def _listing(request: Request, services: Services) -> tuple[list[dict[str, Any]], bool]:
    """The entries of ``/versions``, and whether their usage counts could be read."""
    root_path = request.scope.get("root_path", "")
    activity = await _counts_or_none(services.usage.recent)
    entries = []
    for version in services.versions:
        entry = version_entry(version, root_path)
        counted = activity.get(version.number, VersionActivity()) if activity is not None else None
        entry["requests_24h"] = counted.requests_24h if counted else None
        last = counted.last_called if counted else None
        entry["last_called"] = last.isoformat(timespec="seconds") if last else None
        entries.append(entry)
    return entries, activity is not None


async def _overview(services: Services) -> UsageOverview:
    watched = [v.number for v in services.versions if v.status in WITH_CALLERS]
    daily = await requests_per_day(services.usage)
    return UsageOverview(daily, await top_callers(services.database, watched))


@router.get("/docs", include_in_schema=False)
async def default_docs(request: Request, services: ServicesDep) -> Response:
    """The docs of the default version: the newest stable one."""
    default = services.default_version
    if default is None:
        return JSONResponse({"detail": "No API version is being served"}, status_code=404)
    return RedirectResponse(f"{request.scope.get('root_path', '')}{default.path}/docs")


@router.get("/versions", tags=["gateway"])
async def list_versions(request: Request, services: ServicesDep) -> dict[str, list[dict[str, Any]]]:
    """Every mounted version with its status and the URLs of its docs, schema and token route."""
    listing, _ = await _listing(request, services)
    return {"versions": listing}


@router.get("/", tags=["gateway"], response_model=None)
async def index(request: Request, services: ServicesDep) -> Response:
    """The version index: an HTML page for browsers, JSON for ``Accept: application/json``."""
    listing, counted = await _listing(request, services)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"versions": listing})
    # Not tried again when the counts just failed: one slow database is wait enough.
    usage = await _counts_or_none(lambda: _overview(services)) if counted else None
    return HTMLResponse(render_index(listing, usage))


@router.get("/healthz", tags=["gateway"])
async def healthz() -> dict[str, str]:
    """Liveness: the process is serving."""
    return {"status": "ok"}


@router.get("/readyz", tags=["gateway"], response_model=None)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness: 200 when the database (and a shared rate-limit store) answers, else 503
    naming what does not."""
    probes = {"database": services.database.ping}
    if services.limiter.shared:  # a memory store cannot be down; Redis can (STANDARDS 26)
        probes["ratelimit"] = services.limiter.ping
    results: dict[str, str] = {}
    async with anyio.create_task_group() as group:  # both at once: one timeout, not two
        for name, probe in probes.items():
            group.start_soon(_probe, name, probe, results)
    checks = {name: results[name] for name in probes}
    if all(result == "ok" for result in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503)


async def _probe(name: str, probe: Callable[[], Awaitable[None]], results: dict[str, str]) -> None:
    try:
        with anyio.fail_after(READY_TIMEOUT_SECONDS):
            await probe()
    except Exception as error:  # any failure to answer means "not ready"
        log.warning("readiness check failed: %s: %s", name, type(error).__name__)
        results[name] = "unreachable"
    else:
        results[name] = "ok"
