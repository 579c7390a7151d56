"""The version factory: what every version module builds its ``app`` with.

``create_version_app`` returns a FastAPI application that already has the version's token and
revocation routes, ``/users/me``, docs, OpenAPI document and error handlers. It knows nothing of
its own number: the gateway learns that from the module's name (``v3.py`` is version 3) and tells
the app when it mounts it, so copying a version module to a new name yields a working new version
with no edit.

Each operation's ``operationId`` is its route's name (the endpoint function's, unless the route
was given ``name=``) instead of FastAPI's default, which adds the path and the method: SDK
generators make their method names from it, so ``list_items`` stays ``list_items`` in every
version that has it, whatever its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Host, Match
from starlette.types import Scope

from gateway.auth.bearer import bearer_error_response
from gateway.auth.grants import TokenResponse
from gateway.auth.jwks import JWKS_PATH, jwks
from gateway.auth.revoke_endpoint import REVOKE_OPENAPI, revoke_endpoint
from gateway.auth.token_endpoint import (
    TOKEN_OPENAPI,
    TOKEN_RESPONSES,
    token_endpoint,
    token_method_not_allowed,
)
from gateway.errors import BearerError
from gateway.versioning.docs import add_docs_routes
from gateway.versioning.finite_numbers import validation_error_response
from gateway.versioning.users_me import USERS_ME_PATH, read_me

FACTORY_MARK = "gateway_version_scopes"
# The routes the factory added, in app.state.
FACTORY_ROUTES = "gateway_factory_routes"


def create_version_app(
    *,
    title: str = "API",
    description: str = "",
    scopes: Mapping[str, str] | None = None,
    users_me: bool = True,
    **fastapi_options: Any,
) -> FastAPI:
    """Build a version's FastAPI app.

    ``scopes`` maps each OAuth2 scope the version's routes may require to a description; the token
    route grants only these, and Swagger UI's Authorize dialog lists them. ``users_me=False``
    leaves out ``GET /users/me`` (the caller), for a module that serves its own or none. Other
    keyword arguments go to ``FastAPI`` (for example ``openapi_tags``, or a
    ``generate_unique_id_function`` of the module's own for its operationIds).
    """
    fastapi_options.setdefault("generate_unique_id_function", route_name)
    app = FastAPI(
        title=title,
        description=description,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        swagger_ui_oauth2_redirect_url=None,
        **fastapi_options,
    )
    setattr(app.state, FACTORY_MARK, dict(scopes or {}))
    app.add_exception_handler(BearerError, bearer_error_response)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_api_route(
        "/token",
        token_endpoint,
        methods=["POST"],
        response_model=TokenResponse,
        responses=TOKEN_RESPONSES,
        openapi_extra=TOKEN_OPENAPI,
        operation_id="get_token",
        summary="Get an access token (OAuth2 password or refresh token grant)",
        tags=["auth"],
    )
    app.add_api_route(
        "/revoke",
        revoke_endpoint,
        methods=["POST"],
        openapi_extra=REVOKE_OPENAPI,
        operation_id="revoke_token",
        summary="Revoke an access or refresh token (RFC 7009)",
        tags=["auth"],
    )
    if users_me:
        app.add_api_route(
            USERS_ME_PATH, read_me, methods=["GET"], operation_id="read_me", tags=["users"]
        )
    app.add_route(
        "/token",
        token_method_not_allowed,
        methods=["GET", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    add_docs_routes(app)
    # Outside the OpenAPI document: it is the gateway's, not part of the version's contract.
    app.add_route(JWKS_PATH, jwks, methods=["GET"], include_in_schema=False)

    async def version_root(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/docs")

    app.add_route("/", version_root, include_in_schema=False)
    setattr(app.state, FACTORY_ROUTES, list(app.router.routes))
    return app


def route_name(route: APIRoute) -> str:
    """A route's operationId when it sets none: its name, by default its function's name."""
    return route.name


def repeated_operation_id(app: FastAPI) -> tuple[str, str, str] | None:
    """The first operationId two operations of ``app`` share, with both operations
    (``GET /items/``), or ``None``. FastAPI itself only warns and writes the duplicate."""
    first: dict[str, str] = {}
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        extra = route.openapi_extra or {}
        operation_id = extra.get("operationId") or route.operation_id or route.unique_id
        for method in sorted(route.methods or ()):
            operation = f"{method} {route.path_format}"
            if operation_id in first:
                return operation_id, first[operation_id], operation
            first[operation_id] = operation
    return None


def move_factory_routes_last(app: FastAPI) -> bool:
    """Match the module's own routes before the factory's, when that changes no answer.

    Starlette tries routes one by one, in order, and the factory's routes (token, revoke, users/me,
    docs, OpenAPI, JWKS...) come before any route of the module: every API call would first be
    compared with each of them. They all have fixed paths, so they can go last whenever no
    route of the module answers one of those paths (any method, HTTP or websocket) or shares a
    route name with them (``url_for`` takes the first). Routes that match on anything but the
    path (``Host``) keep the order as it is. The OpenAPI document still lists the token and
    revoke operations first (``docs.contract_document``). Returns whether the routes moved.
    """
    factory = getattr(app.state, FACTORY_ROUTES, [])
    rest = [route for route in app.router.routes if route not in factory]
    paths = {getattr(route, "path", "") for route in factory}
    names = {getattr(route, "name", None) for route in factory}
    if not factory or any(
        isinstance(route, Host)
        or getattr(route, "name", None) in names
        or any(_answers(route, path) for path in paths)
        for route in rest
    ):
        return False
    app.router.routes[:] = [*rest, *factory]
    return True


def _answers(route: BaseRoute, path: str) -> bool:
    for scope_type in ("http", "websocket"):
        scope: Scope = {"type": scope_type, "path": path, "root_path": "", "method": "GET"}
        try:
            match, _ = route.matches(scope)
        except Exception:  # a route that cannot even be asked is assumed to answer
            return True
        if match is not Match.NONE:
            return True
    return False


def declared_scopes(app: Any) -> dict[str, str] | None:
    """The scopes an app declared, or ``None`` if ``create_version_app`` did not make it."""
    state = getattr(app, "state", None)
    scopes = getattr(state, FACTORY_MARK, None) if state is not None else None
    return scopes if isinstance(scopes, dict) else None
