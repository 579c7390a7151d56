"""The application factory: ``create_app(settings)`` builds the whole gateway, and nothing else
configures anything. ``uvicorn --factory gateway.app:create_app`` serves it with settings from the
file and environment; tests call it with their own settings.

Every request passes one explicit chain, written as one list the way Starlette writes its
stack: the observability middleware, CORS when configured (and whatever ``add_middleware`` adds
later, in front of those), then the version dispatcher. The dispatcher hands ``/apiv<N>`` to
version N's app, which has a FastAPI stack of its own, and every other path to the gateway's
FastAPI stack, for its own routes (index, health, metrics, docs assets). Each version's lifespan
runs inside the gateway's, entered in version order and left in reverse.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import func, select
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

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
from gateway.versioning.index import router as index_router
from gateway.versioning.lifecycle import resolve_versions
from gateway.versioning.mounting import bind_version, internal_error, share_exception_handlers

log = logging.getLogger("gateway")


class Gateway(FastAPI):
    """The gateway: its mounted versions, and the chain every request passes (see the module).

    ``add_middleware`` puts middleware in front of the dispatcher, so that it wraps every version
    as well as the gateway's own routes; FastAPI's own stack serves only the latter.
    """

    def __init__(
        self,
        *,
        versions: Sequence[MountedVersion],
        dispatcher: Callable[[ASGIApp], ASGIApp],
        **fastapi_options: Any,
    ) -> None:
        super().__init__(**fastapi_options)
        self.versions = tuple(versions)
        self.front: list[Middleware] = []  # outermost first
        self._dispatcher = dispatcher
        self._chain: ASGIApp | None = None

    def version_app(self, number: int) -> ASGIApp:
        """The app of version ``number``."""
        return next(mounted.app for mounted in self.versions if mounted.info.number == number)

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        if self._chain is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        self.front.insert(0, Middleware(middleware_class, *args, **kwargs))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self._chain is None:
            self._chain = self._build_chain()
        await self._chain(scope, receive, send)

    def _build_chain(self) -> ASGIApp:
        app = self._dispatcher(partial(FastAPI.__call__, self))
        for middleware in reversed(self.front):
            app = middleware.cls(app, *middleware.args, **middleware.kwargs)
        return app


def create_app(settings: Settings | None = None) -> Gateway:
    """Build the gateway: discover and validate the versions, wire storage, tokens and routes.

    Raises ``GatewayError`` (one line naming the cause) for bad settings or a broken version.
    """
    settings = settings if settings is not None else load_settings()
    discovered = discover_versions(settings.versions)
    infos = resolve_versions(
        [(found.number, found.source, found.scopes) for found in discovered], settings.versions
    )
    mounted = [
        MountedVersion(info, found.app) for info, found in zip(infos, discovered, strict=True)
    ]
    services = _services(settings, infos)
    gateway = Gateway(
        versions=mounted,
        dispatcher=partial(
            VersionDispatcher,
            versions=mounted,
            default=services.default_version,
            on_served=services.usage.record,
            tokens=services.tokens,
        ),
        title="API gateway",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    gateway.state.gateway = services
    gateway.add_exception_handler(Exception, internal_error)
    for info, found in zip(infos, discovered, strict=True):
        bind_version(gateway, services, info, found.app)
    gateway.include_router(index_router)
    gateway.mount(ASSETS_PATH, docs_assets(), name="docs-assets")
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


def _services(settings: Settings, versions: Sequence[VersionInfo]) -> Services:
    database = Database(settings.database)
    revocations = RevocationList(database, leeway=timedelta(seconds=settings.auth.leeway_seconds))
    return Services(
        settings=settings,
        database=database,
        usage=UsageRecorder(database),
        revocations=revocations,
        limiter=RateLimiter.from_settings(settings),  # parses every limit: bad ones stop here
        passwords=Passwords(),
        tokens=Tokens(
            load_signing_keys(settings.auth, settings.server.environment),
            active_kid=settings.auth.active_kid,
            issuer=settings.auth.issuer,
            lifetime=timedelta(minutes=settings.auth.access_token_minutes),
            leeway=timedelta(seconds=settings.auth.leeway_seconds),
        ),
        housekeeping=Housekeeping(
            database, revocations, timedelta(days=settings.usage.retention_days)
        ),
        versions=tuple(versions),
    )


@asynccontextmanager
async def _lifespan(gateway: Gateway) -> AsyncIterator[None]:
    services: Services = gateway.state.gateway
    apps = [mounted.app for mounted in gateway.versions]
    share_exception_handlers(gateway, [app for app in apps if isinstance(app, FastAPI)])
    await prepare(services.database, services.settings, migrations_for(services.settings.versions))
    await services.usage.start()
    await services.revocations.start()
    await services.housekeeping.start()
    await services.passwords.warm_up()
    await _hint_first_user(services)
    async with AsyncExitStack() as stack:
        for app in apps:
            if isinstance(app, FastAPI):
                await stack.enter_async_context(app.router.lifespan_context(app))
        log.info(
            "serving %s on %s",
            ", ".join(f"{v.name} ({v.status})" for v in services.versions) or "no versions",
            services.database.display_url,
        )
        yield
    await services.housekeeping.stop()
    await services.revocations.stop()
    await services.usage.stop()
    await services.limiter.close()
    services.passwords.close()
    await services.database.dispose()


async def _hint_first_user(services: Services) -> None:
    async with services.database.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(User))
    if not count:
        known = sorted({scope for version in services.versions for scope in version.scopes})
        scopes = "".join(f" --scope {scope}" for scope in known)
        log.warning("no users yet: create one with `gateway users add NAME%s`", scopes)


def configure_logging(level: str) -> None:
    """Send the gateway's log lines to stderr, each with its request id; access lines as JSON."""
    install_request_id_records()
    logging.basicConfig(
        level=level.upper(), format="%(levelname)-9s %(name)s [%(request_id)s]: %(message)s"
    )
    send_access_log_to(sys.stderr)


def create_app_from_environment() -> Gateway:
    """The ``uvicorn --factory`` entry for worker processes: settings from file and environment."""
    settings = load_settings()
    configure_logging(settings.server.log_level)
    return create_app(settings)
