"""Per-version OpenAPI documents and docs pages, with every asset served by the gateway itself.

- ``/apiv<N>/openapi.json`` is computed per request from ``root_path``: ``servers`` is always
  ``[root_path + "/apiv<N>"]`` (path-only, so Swagger UI resolves the relative ``tokenUrl`` against
  the page and Authorize posts to this version's own token route, behind a proxy prefix too).
- The shared bearer scheme is renamed to the version's own scheme, so Swagger UI's persisted
  authorization of one version never leaks into another version's page on the same origin.
- Schemas that share a title get titles of their own. pydantic describes a model twice when what
  it accepts differs from what it sends (``Price-Input`` and ``Price-Output``, both titled
  ``Price``), and SDK generators name their classes by title, so they would make one class of
  two and leave out what uses the other. Both descriptions are kept: FastAPI's
  ``separate_input_output_schemas=False`` would describe responses by what the model accepts, a
  wider type than it sends (a decimal sent as a string would read as ``number | string``).
- Swagger UI and ReDoc load their scripts, styles and favicon from ``/docs-assets`` (shipped by the
  ``fastapi-offline`` package) and never from a CDN: the docs work with no internet access.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Sequence
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

from gateway.auth.bearer import SHARED_SCHEME_NAME
from gateway.auth.services import get_version
from gateway.observability.request_facts import request_facts
from gateway.services import get_services
from gateway.version_info import VersionInfo, version_name
from gateway.versioning.lifecycle import iso_day

ASSETS_PATH = "/docs-assets"
# The factory's operations, first in every version's document (and so in Swagger UI's list).
FACTORY_OPERATIONS = ("/token", "/revoke", "/users/me")


def docs_assets() -> StaticFiles:
    """The Swagger UI and ReDoc files, mounted once at the gateway root for all versions."""
    return StaticFiles(directory=str(files("fastapi_offline") / "static"))


def contract_document(app: FastAPI, version: VersionInfo) -> dict[str, Any]:
    """The version's API as its OpenAPI document: routes, schemas and its own security scheme,
    without anything that depends on where it is served or on its lifecycle."""
    base: dict[str, Any] | None = getattr(app.state, "openapi_contract", None)
    if base is None:
        document = _distinct_titles(_rename_scheme(app.openapi(), version))
        base = app.state.openapi_contract = _factory_first(document)
    return base


def _distinct_titles(document: dict[str, Any]) -> dict[str, Any]:
    # ``_rename_scheme`` made ``document`` a copy of FastAPI's cached one: it may be changed here.
    schemas = document.get("components", {}).get("schemas", {})
    titles = Counter(schema.get("title") for schema in schemas.values())
    for name, schema in schemas.items():
        if schema.get("title") and titles[schema["title"]] > 1:
            # ``Price-Input`` -> ``PriceInput``: the name, as the class name a generator makes.
            schema["title"] = "".join(p[:1].upper() + p[1:] for p in re.split(r"[\W_]+", name))
    return document


def _factory_first(document: dict[str, Any]) -> dict[str, Any]:
    # The gateway may try the factory's routes last (factory.move_factory_routes_last), and
    # FastAPI lists paths in route order; the document keeps the order the factory declares.
    paths = document.get("paths", {})
    first = {path: paths[path] for path in FACTORY_OPERATIONS if path in paths}
    return {**document, "paths": {**first, **paths}} if paths else document


def versioned_openapi(
    app: FastAPI, version: VersionInfo, root_path: str, siblings: Sequence[VersionInfo] = ()
) -> dict[str, Any]:
    """The document served at ``/openapi.json``: the contract, marked with the version's
    lifecycle and links to the other versions' docs, as seen from ``root_path``."""
    document: dict[str, Any] | None = getattr(app.state, "openapi_document", None)
    if document is None:
        document = _with_lifecycle(contract_document(app, version), version, siblings)
        app.state.openapi_document = document
    return {**document, "servers": [{"url": root_path or "/"}]}


def _with_lifecycle(
    contract: dict[str, Any], version: VersionInfo, siblings: Sequence[VersionInfo]
) -> dict[str, Any]:
    document = copy.deepcopy(contract)
    info = document["info"]
    notes = [note] if (note := _lifecycle_note(version)) else []
    if info.get("description"):
        notes.append(info["description"])
    # Relative links: they resolve against the docs page, under any proxy prefix or /api.
    others = [
        f"[v{v.number}](../{v.name}/docs) ({v.status})"
        for v in siblings
        if v.number != version.number and v.serving
    ]
    if others:
        notes.append("Other versions: " + " · ".join(others))
    info["description"] = "\n\n".join(notes)
    if version.status in ("preview", "deprecated"):
        info["title"] = f"{info['title']} ({version.status})"
    info["x-lifecycle"] = {
        "status": version.status,
        "deprecated_at": iso_day(version.deprecated_at),
        "sunset": iso_day(version.sunset),
        "successor": version.successor,
    }
    if version.status == "deprecated":
        for path_item in document.get("paths", {}).values():
            for operation in path_item.values():
                operation["deprecated"] = True
    return document


def _lifecycle_note(version: VersionInfo) -> str | None:
    if version.status == "preview":
        return "> **Preview**: this version may still change without notice."
    if version.status != "deprecated":
        return None
    note = f"> **Deprecated** since {iso_day(version.deprecated_at)}"
    if version.sunset:
        note += f"; it stops working on {iso_day(version.sunset)}"
    if version.successor:
        note += f". Move to [v{version.successor}](../{version_name(version.successor)}/docs)"
    return note + "."


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
        self.assets = request_facts(request.scope).gateway_root + ASSETS_PATH


def add_docs_routes(app: FastAPI) -> None:
    """``/openapi.json``, ``/docs`` (Swagger UI), ``/docs/oauth2-redirect`` and ``/redoc``."""

    async def openapi_json(request: Request) -> JSONResponse:
        version, siblings = get_version(request), get_services(request).versions
        root_path = request.scope.get("root_path", "")
        return JSONResponse(versioned_openapi(app, version, root_path, siblings))

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
