"""What a version app gets from the gateway that mounts it.

The services and its own ``VersionInfo`` (so the dependency aliases find them), the gateway's
dependency overrides behind its own, an error handler that never shows a stack trace, and, at
startup, the gateway's exception handlers in place of FastAPI's defaults. Its routes are also
reordered for speed and guarded against non-finite numbers once the module has added them all.
"""

from __future__ import annotations

import logging
from collections import ChainMap
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
    websocket_request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException

from gateway.services import Services
from gateway.version_info import VersionInfo
from gateway.versioning.factory import move_factory_routes_last
from gateway.versioning.finite_numbers import guard_routes, validation_error_response

log = logging.getLogger("gateway")

# The handlers every version app starts with (FastAPI's, and the factory's 422 that can render
# non-finite numbers); a gateway handler for the same exception replaces them in every version,
# while a handler a version module set itself is kept.
_DEFAULT_HANDLERS: dict[Any, tuple[Any, ...]] = {
    HTTPException: (http_exception_handler,),
    RequestValidationError: (request_validation_exception_handler, validation_error_response),
    WebSocketRequestValidationError: (websocket_request_validation_exception_handler,),
}

# What a lost database connection looks like, from SQLAlchemy, the drivers and the OS; and a
# pool with no connection free in time, which is a database that cannot keep up.
DATABASE_DOWN = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    OSError,
    TimeoutError,
)


def bind_version(gateway: FastAPI, services: Services, version: VersionInfo, app: FastAPI) -> None:
    """Tell a version app who it is and give it the gateway's services."""
    app.state.gateway = services
    app.state.version = version
    app.version = version.name
    # Overrides set on the gateway, before or after this, reach the version; its own come first.
    app.dependency_overrides = ChainMap(  # type: ignore[assignment]
        app.dependency_overrides, gateway.dependency_overrides
    )
    if app.exception_handlers.get(Exception) is None:
        app.add_exception_handler(Exception, internal_error)
    move_factory_routes_last(app)
    guard_routes(app)  # after the module added its routes: every one of them is checked


def share_exception_handlers(gateway: FastAPI, apps: Iterable[FastAPI]) -> None:
    """Give every version the gateway's handlers, where it kept FastAPI's (or the factory's)."""
    for app in apps:
        for key, handler in gateway.exception_handlers.items():
            current = app.exception_handlers.get(key)
            if current is None or current in _DEFAULT_HANDLERS.get(key, ()):
                app.exception_handlers[key] = handler


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A 5xx that says nothing about the code: the traceback goes to the log only.

    A database that cannot be reached is a 503 with ``Retry-After``: the request may well
    succeed once it is back, and clients and load balancers should know that.
    """
    if isinstance(exc, DATABASE_DOWN):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"detail": "The database is unavailable; try again shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "Internal server error"}, status_code=500)
