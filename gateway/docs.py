"""Per-version OpenAPI documents and docs pages, with every asset served by the gateway itself.

- ``/apiv<N>/openapi.json`` is computed per request from ``root_path``: ``servers`` is always
  ``[root_path + "/apiv<N>"]`` (path-only, so Swagger UI resolves the relative ``tokenUrl`` against
  the page and Authorize posts to this version's own token route, behind a proxy prefix too).
- The shared bearer scheme is renamed to the version's own scheme, so Swagger UI's persisted
  authorization of one version never leaks into another version's page on the same origin.
- Swagger UI and ReDoc load their scripts, styles and favicon from ``/docs-assets`` (shipped by the
  ``fastapi-offline`` package) and never from a CDN: the docs work with no internet access.
"""

from __future__ import annotations

import copy
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.staticfiles import StaticFiles

from gateway.context import VersionInfo, get_version
from gateway.security import SHARED_SCHEME_NAME

ASSETS_PATH = "/docs-assets"


def docs_assets() -> StaticFiles:
    """The Swagger UI and ReDoc files, mounted once at the gateway root for all versions."""
    return StaticFiles(directory=str(files("fastapi_offline") / "static"))


def versioned_openapi(app: FastAPI, version: VersionInfo, root_path: str) -> dict[str, Any]:
    """The version's OpenAPI document as seen from ``root_path`` (the version's mount point)."""
    base = getattr(app.state, "openapi_base", None)
    if base is None:
        base = _rename_scheme(app.openapi(), version)
        app.state.openapi_base = base
    return {**base, "servers": [{"url": root_path or "/"}]}


def _rename_scheme(document: dict[str, Any], version: VersionInfo) -> dict[str, Any]:
    document = copy.deepcopy(document)
    schemes = document.get("components", {}).get("securitySchemes", {})
    shared = schemes.pop(SHARED_SCHEME_NAME, None)
    if shared is not None:
        shared["flows"]["password"]["scopes"] = dict(version.scopes)
        schemes[version.security_scheme] = shared
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for requirement in operation.get("security", []):
                if SHARED_SCHEME_NAME in requirement:
                    requirement[version.security_scheme] = requirement.pop(SHARED_SCHEME_NAME)
    return document


class _PageUrls:
    """Where a docs page finds its version (``root``) and the shared assets, behind any prefix."""

    def __init__(self, request: Request) -> None:
        self.version = get_version(request)
        self.root: str = request.scope.get("root_path", "")
        self.openapi = f"{self.root}/openapi.json"
        self.assets = self.root.removesuffix(self.version.path) + ASSETS_PATH


def add_docs_routes(app: FastAPI) -> None:
    """``/openapi.json``, ``/docs`` (Swagger UI), ``/docs/oauth2-redirect`` and ``/redoc``."""

    async def openapi_json(request: Request) -> JSONResponse:
        version = get_version(request)
        return JSONResponse(versioned_openapi(app, version, request.scope.get("root_path", "")))

    async def swagger_ui(request: Request) -> HTMLResponse:
        urls = _PageUrls(request)
        return get_swagger_ui_html(
            openapi_url=urls.openapi,
            title=f"{app.title} {urls.version.name} - Swagger UI",
            swagger_js_url=f"{urls.assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{urls.assets}/swagger-ui.css",
            swagger_favicon_url=f"{urls.assets}/favicon.png",
            oauth2_redirect_url=f"{urls.root}/docs/oauth2-redirect",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        urls = _PageUrls(request)
        return get_redoc_html(
            openapi_url=urls.openapi,
            title=f"{app.title} {urls.version.name} - ReDoc",
            redoc_js_url=f"{urls.assets}/redoc.standalone.js",
            redoc_favicon_url=f"{urls.assets}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route("/openapi.json", openapi_json, include_in_schema=False)
    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", swagger_ui_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
