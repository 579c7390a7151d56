"""A version's lifecycle as clients see it: preview, stable, deprecated, retired.

- A deprecated version adds to every response ``Deprecation: @<unix-seconds>`` (RFC 9745),
  ``Sunset: <HTTP-date>`` when set (RFC 8594), and ``Link`` headers to its successor's docs
  (``rel="successor-version"``, RFC 5829) and to its own docs (``rel="deprecation"``).
- A retired version answers every path, token route and docs included, with 410 and a JSON body
  and ``Link`` pointing to the successor.
- A path that names a version that does not exist gets a JSON 404 listing the ones that do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime

from starlette.datastructures import Headers as HTTPHeaders
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gateway.auth.bearer import bearer_token
from gateway.auth.tokens import Tokens
from gateway.errors import SettingsError, TokenError
from gateway.observability.request_facts import request_facts
from gateway.settings import VersionsSettings
from gateway.version_info import VersionInfo, version_name

Headers = list[tuple[bytes, bytes]]


def resolve_versions(
    found: Sequence[tuple[int, str, dict[str, str]]], settings: VersionsSettings
) -> list[VersionInfo]:
    """Each discovered version (number, source, scopes) with its lifecycle settings applied.

    A successor defaults to the next higher version that still serves.
    """
    numbers = [number for number, _, _ in found]
    statuses = {number: settings.for_version(number).status for number in numbers}
    versions = []
    for number, source, scopes in found:
        config = settings.for_version(number)
        successor = config.successor
        if successor is not None and successor not in numbers:
            raise SettingsError(
                f"versions.v{number}.successor: there is no version {successor} "
                f"(versions: {', '.join(map(str, numbers))})"
            )
        if successor is None:
            later = [n for n in numbers if n > number and statuses[n] != "retired"]
            successor = later[0] if later else None
        versions.append(
            VersionInfo(
                number=number,
                source=source,
                status=config.status,
                scopes=scopes,
                deprecated_at=config.deprecated_at,
                sunset=config.sunset,
                successor=successor,
            )
        )
    return versions


def iso_day(moment: datetime | None) -> str | None:
    """A lifecycle date as clients read it in listings and docs: ``2027-06-30``."""
    return moment.date().isoformat() if moment else None


def docs_url(root_path: str, number: int) -> str:
    return f"{root_path}/{version_name(number)}/docs"


def successor_link(version: VersionInfo, root_path: str) -> str | None:
    if version.successor is None:
        return None
    return f'<{docs_url(root_path, version.successor)}>; rel="successor-version"'


def deprecation_headers(version: VersionInfo, root_path: str) -> Headers:
    """The headers every response of a deprecated version carries (none for other statuses)."""
    if version.status != "deprecated" or version.deprecated_at is None:
        return []
    headers = [(b"deprecation", f"@{int(version.deprecated_at.timestamp())}".encode())]
    if version.sunset is not None:
        headers.append((b"sunset", format_datetime(version.sunset, usegmt=True).encode()))
    links = [
        successor_link(version, root_path),
        f'<{docs_url(root_path, version.number)}>; rel="deprecation"',
    ]
    headers.append((b"link", ", ".join(link for link in links if link).encode()))
    return headers


class RetiredVersion:
    """The ASGI app that stands in for a retired version: 410 for every path."""

    def __init__(self, version: VersionInfo, tokens: Tokens | None = None) -> None:
        self.version = version
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._note_caller(scope)
        root_path = request_facts(scope).gateway_root
        body: dict[str, object] = {
            "error": "version_retired",
            "detail": f"API version {self.version.number} has been retired",
        }
        headers = {}
        link = successor_link(self.version, root_path)
        if link:
            body["successor"] = f"{root_path}/{version_name(self.version.successor or 0)}"
            body["successor_docs"] = docs_url(root_path, self.version.successor or 0)
            headers["Link"] = link
        if self.version.sunset is not None:
            headers["Sunset"] = format_datetime(self.version.sunset, usegmt=True)
        await JSONResponse(body, status_code=410, headers=headers)(scope, receive, send)

    def _note_caller(self, scope: Scope) -> None:
        """Name the caller for the usage counts: who still calls a retired version matters."""
        if self.tokens is None:
            return
        token = bearer_token(HTTPHeaders(scope=scope))
        if token is None:
            return
        with contextlib.suppress(TokenError):
            request_facts(scope).principal = self.tokens.verify(token, self.version.name).subject


def unknown_version(name: str, versions: Sequence[VersionInfo], root_path: str) -> JSONResponse:
    available = [
        {"number": v.number, "path": f"{root_path}{v.path}", "status": v.status}
        for v in versions
        if v.serving
    ]
    return JSONResponse(
        {"detail": f"There is no API version {name!r}", "versions": available}, status_code=404
    )
