"""The application factory: ``create_app(settings)`` builds the whole gateway, and nothing else
configures anything. ``uvicorn --factory gateway.app:create_app`` serves it with settings from the
file and environment; tests call it with their own settings.

The gateway is a FastAPI app of its own (index, health, docs assets) with a version dispatcher in
front of its routes. Each version app gets the shared services, the gateway's dependency
overrides and, at startup, the gateway's exception handlers; its lifespan runs inside the
gateway's, entered in version order and left in reverse.
"""

from __future__ import annotations

import logging
import sys
from collections import ChainMap
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
    websocket_request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from gateway.auth.passwords import Passwords
from gateway.auth.ratelimit import RateLimiter
from gateway.auth.revocations import RevocationList
from gateway.auth.signing_keys import load_signing_keys
from gateway.auth.tokens import Tokens
from gateway.auth.users import User
from gateway.housekeeping import Housekeeping
from gateway.observability.access_log import send_access_log_to
from gateway.observability.middleware import install_observability
from gateway.observability.request_id import install_request_id_records
from gateway.services import Services
from gateway.settings import Settings, load_settings
from gateway.storage.database import Database
from gateway.storage.migrate import prepare
from gateway.usage.recorder import UsageRecorder
from gateway.version_info import VersionInfo
from gateway.versioning.discovery import discover_versions, migrations_for
from gateway.versioning.dispatch import MountedVersion, VersionDispatcher
from gateway.versioning.docs import ASSETS_PATH, docs_assets
from gateway.versioning.factory import move_factory_routes_last
from gateway.versioning.finite_numbers import guard_routes, validation_error_response
from gateway.versioning.index import router as index_router
from gateway.versioning.lifecycle import resolve_versions

log = logging.getLogger("gateway")

# The handlers every version app starts with (FastAPI's, and the factory's 422 that can render
# non-finite numbers); a gateway handler for the same exception replaces them in every version,
# while a handler a version module set itself is kept.
_DEFAULT_HANDLERS: dict[Any, tuple[Any, ...]] = {
    HTTPException: (http_exception_handler,),
    RequestValidationError: (request_validation_exception_handler, validation_error_response),
    WebSocketRequestValidationError: (websocket_request_validation_exception_handler,),
}


class Gateway(FastAPI):
    """The gateway app: FastAPI, with the version dispatcher placed before FastAPI's own stack.

    FastAPI wraps every request in its error, telemetry, body-limit and exception middleware,
    then the user's middleware. A version app has that whole stack of its own, so a version
    request needs only the user's middleware (request ids, logs, CORS...) and then the
    dispatcher: the gateway's own stack runs only for the gateway's own routes.
    """

    def build_middleware_stack(self) -> ASGIApp:
        added = self.user_middleware
        at = next(i for i, m in enumerate(added) if m.cls is VersionDispatcher)  # type: ignore[comparison-overlap]
        # add_middleware() puts later additions first: those wrap the dispatcher.
        outer, dispatcher, inner = added[:at], added[at], added[at + 1 :]
        self.user_middleware = inner
        try:
            app: ASGIApp = super().build_middleware_stack()
        finally:
            self.user_middleware = added
        app = dispatcher.cls(app, *dispatcher.args, **dispatcher.kwargs)
        for middleware in reversed(outer):
            app = middleware.cls(app, *middleware.args, **middleware.kwargs)
        return app


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway: discover and validate the versions, wire storage, tokens and routes.

    Raises ``GatewayError`` (one line naming the cause) for bad settings or a broken version.
    """
    settings = settings if settings is not None else load_settings()
    discovered = discover_versions(settings.versions)
    versions = resolve_versions(
        [(found.number, found.source, found.scopes) for found in discovered], settings.versions
    )
    database = Database(settings.database)
    services = Services(
        settings=settings,
        database=database,
        usage=UsageRecorder(database),
        revocations=RevocationList(
            database, leeway=timedelta(seconds=settings.auth.leeway_seconds)
        ),
        limiter=RateLimiter.from_settings(settings),  # parses every limit: bad ones stop here
        passwords=Passwords(),
        tokens=Tokens(
            load_signing_keys(settings.auth, settings.server.environment),
            active_kid=settings.auth.active_kid,
            issuer=settings.auth.issuer,
            lifetime=timedelta(minutes=settings.auth.access_token_minutes),
            leeway=timedelta(seconds=settings.auth.leeway_seconds),
        ),
        versions=tuple(versions),
    )
    gateway = Gateway(
        title="API gateway",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    gateway.add_exception_handler(Exception, internal_error)
    for version, found in zip(versions, discovered, strict=True):
        _bind(gateway, services, version, found.app)
    gateway.state.gateway = services
    gateway.state.housekeeping = Housekeeping(
        database, services.revocations, timedelta(days=settings.usage.retention_days)
    )
    gateway.state.versions = versions
    gateway.state.version_apps = {
        version.name: found.app for version, found in zip(versions, discovered, strict=True)
    }
    gateway.include_router(index_router)
    gateway.mount(ASSETS_PATH, docs_assets(), name="docs-assets")
    gateway.add_middleware(
        VersionDispatcher,
        versions=[
            MountedVersion(version, found.app)
            for version, found in zip(versions, discovered, strict=True)
        ],
        default=services.default_version,
        on_served=services.usage.record,
        tokens=services.tokens,
    )
    if settings.cors.origins:
        gateway.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors.origins,
            allow_credentials=settings.cors.allow_credentials,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "API-Version", "X-Request-ID"],
            expose_headers=["X-Request-ID", "API-Version", "Deprecation", "Sunset", "Link"],
        )
    install_observability(gateway, settings)  # last: it must see every request and response
    return gateway


def _bind(gateway: FastAPI, services: Services, version: VersionInfo, app: FastAPI) -> None:
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


def _share_exception_handlers(gateway: FastAPI, apps: Iterable[FastAPI]) -> None:
    for app in apps:
        for key, handler in gateway.exception_handlers.items():
            current = app.exception_handlers.get(key)
            if current is None or current in _DEFAULT_HANDLERS.get(key, ()):
                app.exception_handlers[key] = handler


@asynccontextmanager
async def _lifespan(gateway: FastAPI) -> AsyncIterator[None]:
    services: Services = gateway.state.gateway
    apps: dict[str, FastAPI] = gateway.state.version_apps
    _share_exception_handlers(gateway, apps.values())
    await prepare(services.database, services.settings, migrations_for(services.settings.versions))
    await services.usage.start()
    await services.revocations.start()
    housekeeping: Housekeeping = gateway.state.housekeeping
    await housekeeping.start()
    await services.passwords.warm_up()
    await _hint_first_user(services, gateway.state.versions)
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        log.info(
            "serving %s on %s",
            ", ".join(
                f"{name} ({version.status})"
                for name, version in zip(apps, gateway.state.versions, strict=True)
            )
            or "no versions",
            services.database.display_url,
        )
        yield
    await housekeeping.stop()
    await services.revocations.stop()
    await services.usage.stop()
    await services.limiter.close()
    services.passwords.close()
    await services.database.dispose()


async def _hint_first_user(services: Services, versions: list[VersionInfo]) -> None:
    async with services.database.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(User))
    if not count:
        known = sorted({scope for version in versions for scope in version.scopes})
        scopes = "".join(f" --scope {scope}" for scope in known)
        log.warning("no users yet: create one with `gateway users add NAME%s`", scopes)


# What a lost database connection looks like, from SQLAlchemy, the drivers and the OS.
DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, OSError, TimeoutError)


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


def configure_logging(level: str) -> None:
    """Send the gateway's log lines to stderr, each with its request id; access lines as JSON."""
    install_request_id_records()
    logging.basicConfig(
        level=level.upper(), format="%(levelname)-9s %(name)s [%(request_id)s]: %(message)s"
    )
    send_access_log_to(sys.stderr)


def create_app_from_environment() -> FastAPI:
    """The ``uvicorn --factory`` entry for worker processes: settings from file and environment."""
    settings = load_settings()
    configure_logging(settings.server.log_level)
    return create_app(settings)
