"""A multi-version API gateway on FastAPI.

Version authors need only what is exported here: ``create_version_app`` to build a version's
``app``, the ``CurrentPrincipal`` / ``require_scopes`` dependencies for protected routes,
``DbSession`` for storage and ``Base`` to declare shared tables, ``BearerError`` to refuse a
caller with the RFC 6750 answer. ``create_app`` builds the gateway itself. Every exception class
the gateway raises is in ``gateway.errors``.
"""

from gateway.app import create_app
from gateway.auth.bearer import CurrentPrincipal, Principal, require_scopes
from gateway.errors import BearerError, GatewayError, SettingsError, UserError, VersionLoadError
from gateway.services import DbSession, Services, VersionDep
from gateway.settings import Settings, load_settings
from gateway.storage.database import Base
from gateway.version_info import VersionInfo
from gateway.versioning.factory import create_version_app

__all__ = [
    "Base",
    "BearerError",
    "CurrentPrincipal",
    "DbSession",
    "GatewayError",
    "Principal",
    "Services",
    "Settings",
    "SettingsError",
    "UserError",
    "VersionDep",
    "VersionInfo",
    "VersionLoadError",
    "create_app",
    "create_version_app",
    "load_settings",
    "require_scopes",
]
