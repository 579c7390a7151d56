"""Version dispatch: route ``/apiv<N>/...`` to version N's app with one dictionary look-up.

Starlette's ``Mount`` list is scanned route by route, so the fiftieth version would pay for the
forty-nine before it. This middleware reads the first path segment and looks it up instead; every
other path falls through to the gateway's own routes. Written as plain ASGI, since
``BaseHTTPMiddleware`` costs most of a request's throughput.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class VersionDispatcher:
    """ASGI middleware: ``/apiv<N>`` and below go to version N, everything else to ``app``."""

    def __init__(self, app: ASGIApp, versions: Mapping[str, ASGIApp]) -> None:
        self.app = app
        self.versions = dict(versions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        root_path: str = scope.get("root_path", "")
        path: str = scope["path"]
        if root_path and not path.startswith(root_path):
            # Servers that follow the older convention give the path without the root path.
            path = root_path + path
        route_path = path[len(root_path) :]
        segment = route_path[1:].partition("/")[0]
        version_app = self.versions.get(segment)
        if version_app is None:
            await self.app(scope, receive, send)
            return
        mount = f"{root_path}/{segment}"
        if path == mount and scope["type"] == "http":
            query = scope.get("query_string", b"").decode("latin-1")
            await RedirectResponse(mount + "/" + (f"?{query}" if query else ""))(
                scope, receive, send
            )
            return
        child = dict(scope)
        child["path"] = path
        child["root_path"] = mount
        # url_for() inside a version builds on app_root_path: it must be the version's mount.
        child["app_root_path"] = mount
        await version_app(child, receive, send)
