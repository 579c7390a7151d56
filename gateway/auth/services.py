"""What the auth layer needs from the gateway's shared services, and how a request reaches it.

The gateway's ``Services`` (``gateway.services``) extends ``AuthServices`` with what only the
layers above use (usage counts, the version list), so the auth modules name the part they use
and never import the whole service graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from gateway.auth.passwords import Passwords
from gateway.auth.ratelimit import RateLimiter
from gateway.auth.revocations import RevocationList
from gateway.auth.tokens import Tokens
from gateway.settings import Settings
from gateway.storage.database import Database
from gateway.version_info import VersionInfo


@dataclass(frozen=True)
class AuthServices:
    """Settings, storage, passwords, tokens, revocations and limits, shared by every version."""

    settings: Settings
    database: Database
    passwords: Passwords
    tokens: Tokens
    revocations: RevocationList
    limiter: RateLimiter


def get_auth_services(request: Request) -> AuthServices:
    services: AuthServices = request.app.state.gateway
    return services


def get_version(request: Request) -> VersionInfo:
    """The version whose app serves this request."""
    version: VersionInfo = request.app.state.version
    return version
