"""The gateway's own routes: the version index (``/``, ``/versions``) and health (``/healthz``,
``/readyz``). Every URL they print includes the ``root_path``, so they are right behind a proxy.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from gateway.context import Services, VersionInfo
from gateway.lifecycle import iso_day
from gateway.usage import VersionActivity

log = logging.getLogger("gateway")
READY_TIMEOUT_SECONDS = 2.0

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


async def _listing(request: Request) -> list[dict[str, Any]]:
    services: Services = request.app.state.gateway
    root_path = request.scope.get("root_path", "")
    try:
        activity = await services.usage.recent()
    except SQLAlchemyError as error:
        # The listing matters more than its counts: serve it without them.
        log.warning("usage counts unavailable: %s", type(error).__name__)
        activity = None
    entries = []
    for version in services.versions:
        entry = version_entry(version, root_path)
        counted = activity.get(version.number, VersionActivity()) if activity is not None else None
        entry["requests_24h"] = counted.requests_24h if counted else None
        last = counted.last_called if counted else None
        entry["last_called"] = last.isoformat(timespec="seconds") if last else None
        entries.append(entry)
    return entries


@router.get("/docs", include_in_schema=False)
async def default_docs(request: Request) -> Response:
    """The docs of the default version: the newest stable one."""
    services: Services = request.app.state.gateway
    default = services.default_version
    if default is None:
        return JSONResponse({"detail": "No API version is being served"}, status_code=404)
    return RedirectResponse(f"{request.scope.get('root_path', '')}{default.path}/docs")


@router.get("/versions", tags=["gateway"])
async def list_versions(request: Request) -> dict[str, list[dict[str, Any]]]:
    """Every mounted version with its status and the URLs of its docs, schema and token route."""
    return {"versions": await _listing(request)}


@router.get("/", tags=["gateway"], response_model=None)
async def index(request: Request) -> Response:
    """The version index: an HTML page for browsers, JSON for ``Accept: application/json``."""
    listing = await _listing(request)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"versions": listing})
    rows = "\n".join(
        '<tr><td>v{number}</td><td>{status}</td><td><a href="{docs}">Swagger UI</a> · '
        '<a href="{redoc}">ReDoc</a> · <a href="{openapi}">OpenAPI</a></td>'
        "<td><code>{token}</code></td></tr>".format(
            number=entry["number"],
            status=html.escape(_status_text(entry)),
            docs=html.escape(entry["docs_url"]),
            redoc=html.escape(entry["redoc_url"]),
            openapi=html.escape(entry["openapi_url"]),
            token=html.escape(entry["token_url"]),
        )
        for entry in listing
    )
    return HTMLResponse(INDEX_PAGE.format(rows=rows))


def _status_text(entry: dict[str, Any]) -> str:
    text = str(entry["status"])
    if entry["deprecated_at"]:
        text += f" since {entry['deprecated_at']}"
    if entry["sunset"]:
        text += f", sunset {entry['sunset']}"
    if entry["successor"] and entry["status"] in ("deprecated", "retired"):
        text += f"; use v{entry['successor']}"
    return text


@router.get("/healthz", tags=["gateway"])
async def healthz() -> dict[str, str]:
    """Liveness: the process is serving."""
    return {"status": "ok"}


@router.get("/readyz", tags=["gateway"], response_model=None)
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database (and a shared rate-limit store) answers, else 503
    naming what does not."""
    services: Services = request.app.state.gateway
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


INDEX_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API versions</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 56rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; }}
</style>
</head>
<body>
<h1>API versions</h1>
<table>
<thead><tr><th>Version</th><th>Status</th><th>Docs</th><th>Token URL</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
