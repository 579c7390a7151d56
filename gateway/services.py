"""What a request handler can reach: the gateway's shared services and its own version.

The gateway puts one ``Services`` object on every version app's ``state`` when it mounts the
version, together with that version's ``VersionInfo``. Handlers reach both through the
``Annotated`` aliases below instead of module globals, so tests can build apps side by side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.services import AuthServices, get_version
from gateway.housekeeping import Housekeeping
from gateway.usage.recorder import UsageRecorder
from gateway.version_info import VersionInfo


@dataclass(frozen=True)
class Services(AuthServices):
    """Everything the versions share: the auth layer's, usage counts, pruning, the versions."""

    usage: UsageRecorder
    housekeeping: Housekeeping
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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_services(request).database.sessions() as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
VersionDep = Annotated[VersionInfo, Depends(get_version)]
DbSession = Annotated[AsyncSession, Depends(get_session)]
