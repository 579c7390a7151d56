"""A multi-version API gateway on FastAPI.

A version module needs nothing from the gateway but what is exported here:

- ``create_version_app`` builds the version's ``app``, with its token and revocation routes,
  ``/users/me`` (unless ``users_me=False``), docs and OpenAPI document;
- ``CurrentPrincipal`` and ``require_scopes(...)`` guard a route and name its caller, a
  ``Principal``; ``BearerError`` refuses the caller with the RFC 6750 answer;
- ``DbSession`` is a session on the shared database, ``Base`` the declarative base of its tables
  and ``UTCDateTime`` their timezone-aware datetime column type;
- ``VersionDep`` is the version's own number, status and scopes;
- ``derive_version`` builds the ``app`` of a version declared as changes to its successor, with
  ``schema(...)``, ``endpoint(...)`` and ``unchanged`` (a converter's empty document effect).

``create_app`` builds the gateway itself from ``Settings`` (``load_settings``). Every exception
class the gateway raises is in ``gateway.errors``; the startup ones are exported here too. The
tests of a version need only ``gateway.testing``, which is not imported here: it uses httpx, a
development dependency.
"""

from gateway.app import create_app
from gateway.auth.bearer import CurrentPrincipal, Principal, require_scopes
from gateway.errors import BearerError, GatewayError, SettingsError, UserError, VersionLoadError
from gateway.services import DbSession, Services, VersionDep
from gateway.settings import Settings, load_settings
from gateway.storage.database import Base, UTCDateTime
from gateway.version_info import VersionInfo
from gateway.versioning.derivation.binding import derive_version
from gateway.versioning.derivation.declarations import endpoint, schema, unchanged
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
    "UTCDateTime",
    "UserError",
    "VersionDep",
    "VersionInfo",
    "VersionLoadError",
    "create_app",
    "create_version_app",
    "derive_version",
    "endpoint",
    "load_settings",
    "require_scopes",
    "schema",
    "unchanged",
]
