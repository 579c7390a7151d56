"""Version dispatch: route ``/apiv<N>/...`` to version N's app with one dictionary look-up.

Starlette's ``Mount`` list is scanned route by route, so the fiftieth version would pay for the
forty-nine before it. This middleware reads the first path segment and looks it up instead; every
other path falls through to the gateway's own routes. Written as plain ASGI, since
``BaseHTTPMiddleware`` costs most of a request's throughput.

``/api/...`` is served by the version the client names in the ``API-Version`` header (or the
``api-version`` query parameter), by default the newest stable one; the response says which.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth.tokens import Tokens
from gateway.observability.request_facts import request_facts
from gateway.version_info import VersionInfo, requested_version
from gateway.versioning.lifecycle import (
    Headers,
    RetiredVersion,
    deprecation_headers,
    unknown_version,
)

NEGOTIATED = "api"
VERSION_SEGMENT = re.compile(r"^apiv[0-9]+$")

# Called after each request a version served: (version number, principal or None).
ServedHook = Callable[[int, str | None], None]


@dataclass(frozen=True)
class MountedVersion:
    info: VersionInfo
    app: ASGIApp


class VersionDispatcher:
    """ASGI middleware: ``/apiv<N>`` and ``/api`` go to a version, everything else to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        versions: Sequence[MountedVersion],
        default: VersionInfo | None = None,
        on_served: ServedHook | None = None,
        tokens: Tokens | None = None,
    ) -> None:
        self.app = app
        self.infos = [mounted.info for mounted in versions]
        self.by_name: dict[str, MountedVersion] = {
            mounted.info.name: MountedVersion(
                mounted.info,
                mounted.app if mounted.info.serving else RetiredVersion(mounted.info, tokens),
            )
            for mounted in versions
        }
        self.by_number = {mounted.info.number: mounted for mounted in self.by_name.values()}
        self.default = self.by_number[default.number] if default else None
        self.on_served = on_served
        self._headers: dict[tuple[int, str], Headers] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        root_path: str = scope.get("root_path", "")
        path: str = scope["path"]
        if root_path and not path.startswith(root_path):
            # Servers that follow the older convention give the path without the root path.
            path = root_path + path
        segment = path[len(root_path) + 1 :].partition("/")[0]
        mounted = self.by_name.get(segment)
        negotiated = mounted is None and segment == NEGOTIATED
        if negotiated:
            chosen = self._negotiate(scope)
            if isinstance(chosen, JSONResponse):
                await chosen(scope, receive, send)
                return
            mounted = chosen
        if mounted is None:
            if VERSION_SEGMENT.match(segment):
                await unknown_version(segment, self.infos, root_path)(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return

        mount = f"{root_path}/{segment}"
        if path == mount and scope["type"] == "http":
            query = scope.get("query_string", b"").decode("latin-1")
            location = mount + "/" + (f"?{query}" if query else "")
            await RedirectResponse(location)(scope, receive, send)
            return
        facts = request_facts(scope)  # before the copy: the child scope shares the object
        facts.version = mounted.info.number
        facts.gateway_root = root_path
        child = dict(scope)
        child["path"] = path
        child["root_path"] = mount
        # url_for() inside a version builds on app_root_path: it must be the version's mount.
        child["app_root_path"] = mount
        # FastAPI's OpenTelemetry support observes the request once, in the gateway app; this
        # key tells the version app not to check again (FastAPI's own convention for mounts).
        child.setdefault("fastapi.telemetry", None)
        extra = self._extra_headers(mounted.info, root_path, negotiated)
        try:
            await mounted.app(child, receive, _adding(send, extra) if extra else send)
        finally:
            # The version's router leaves the route it matched in the version's scope.
            facts.route = getattr(child.get("route"), "path", None)
            # A caller that met an error is still a caller of this version.
            if self.on_served is not None:
                self.on_served(mounted.info.number, facts.principal)

    def _extra_headers(self, version: VersionInfo, root_path: str, negotiated: bool) -> Headers:
        key = (version.number, root_path)
        headers = self._headers.get(key)
        if headers is None:
            headers = self._headers[key] = deprecation_headers(version, root_path)
        if negotiated:
            headers = [
                *headers,
                (b"api-version", str(version.number).encode()),
                (b"vary", b"API-Version"),
            ]
        return headers

    def _negotiate(self, scope: Scope) -> MountedVersion | JSONResponse:
        requested = _requested_version(scope)
        if requested is None:
            if self.default is None:
                return JSONResponse({"detail": "No API version is being served"}, 404)
            return self.default
        number = requested_version(requested)
        mounted = self.by_number.get(number) if number is not None else None
        if mounted is None:
            supported = [str(v.number) for v in self.infos if v.serving]
            return JSONResponse(
                {
                    "detail": f"Unsupported API version {requested!r}; "
                    f"supported: {', '.join(supported)}",
                    "supported": supported,
                },
                status_code=400,
            )
        return mounted


def _requested_version(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"api-version":
            decoded: str = value.decode("latin-1")
            return decoded
    query = scope.get("query_string", b"")
    if b"api-version" in query:
        values: list[str] = parse_qs(query.decode("latin-1")).get("api-version", [])
        if values:
            return values[0]
    return None


def _adding(send: Send, headers: Headers) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *headers]}
        await send(message)

    return send_with_headers
