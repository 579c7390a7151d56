"""``VersionInfo``: one mounted version as every layer names it.

A plain value, built from the module's name and the settings, with nothing of the service graph:
tokens take their audience from it, bearer errors their realm, docs their scheme name, the
dispatcher its path segment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from gateway.settings import VersionStatus

# How clients name a version: ``2``, ``v2`` or ``apiv2`` (API-Version, CLI arguments).
_REQUESTED = re.compile(r"^(?:apiv|v)?([1-9][0-9]*)$", re.IGNORECASE)


def version_name(number: int) -> str:
    """``apiv<N>``: the path segment, the token audience and the bearer realm of version N."""
    return f"apiv{number}"


def requested_version(text: str) -> int | None:
    """The number in ``2``, ``v2`` or ``apiv2`` (any case, spaces around), else ``None``."""
    match = _REQUESTED.match(text.strip())
    return int(match.group(1)) if match else None


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
        return version_name(self.number)

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
