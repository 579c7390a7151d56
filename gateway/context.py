"""What a request handler can reach: the gateway's shared services and its own version.

The gateway puts one ``Services`` object on every version app's ``state`` when it mounts the
version, together with that version's ``VersionInfo``. Handlers reach both through the
``Annotated`` aliases below instead of module globals, so tests can build apps side by side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.passwords import Passwords
from gateway.ratelimit import RateLimiter
from gateway.revocation import RevocationList
from gateway.settings import Settings, VersionStatus
from gateway.storage import Database
from gateway.tokens import Tokens
from gateway.usage import UsageRecorder

# Keys the gateway adds to a version request's ASGI scope.
GATEWAY_ROOT_KEY = "gateway.root_path"  # the gateway's own root path, above the version's mount
PRINCIPAL_KEY = "gateway.principal"  # who the bearer token named, once it has been verified
# Copied back to the gateway's own scope after a version served a request, for middleware that
# wraps the dispatcher (access log, metrics): which version, and which route template.
VERSION_KEY = "gateway.version"
ROUTE_KEY = "gateway.route"


@dataclass(frozen=True)
class VersionInfo:
    """One mounted version: its number, where it lives, what it offers, where it is in its life."""

    number: int
    source: str
    status: VersionStatus = "stable"
    scopes: Mapping[str, str] = field(default_factory=dict)
    deprecated_at: datetime | None = None
    sunset: datetime | None = None
    successor: int | None = None

    @cached_property  # read on every authenticated request
    def name(self) -> str:
        """``apiv<N>``: the path segment, the token audience and the bearer realm."""
        return f"apiv{self.number}"

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def security_scheme(self) -> str:
        # Unique per version: Swagger UI persists authorizations by scheme name per origin.
        return f"{self.name}_oauth2"

    @property
    def serving(self) -> bool:
        return self.status != "retired"


@dataclass(frozen=True)
class Services:
    """Everything the versions share: settings, storage, passwords, tokens, the version list."""

    settings: Settings
    database: Database
    passwords: Passwords
    tokens: Tokens
    usage: UsageRecorder
    revocations: RevocationList
    limiter: RateLimiter
    versions: tuple[VersionInfo, ...] = ()

    def version(self, number: int) -> VersionInfo | None:
        return next((v for v in self.versions if v.number == number), None)

    @property
    def default_version(self) -> VersionInfo | None:
        """The newest stable version, else the newest one still serving."""
        serving = [v for v in self.versions if v.serving]
        stable = [v for v in serving if v.status == "stable"]
        candidates = stable or serving
        return candidates[-1] if candidates else None


def get_services(request: Request) -> Services:
    services: Services = request.app.state.gateway
    return services


def get_version(request: Request) -> VersionInfo:
    version: VersionInfo = request.app.state.version
    return version


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_services(request).database.sessions() as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
VersionDep = Annotated[VersionInfo, Depends(get_version)]
DbSession = Annotated[AsyncSession, Depends(get_session)]
