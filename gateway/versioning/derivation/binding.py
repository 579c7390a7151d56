"""``derive_version``, and the binding of a derived version to its successor when versions load.

A derived module's ``app`` is an ordinary version app (``create_version_app``) that carries its
declarations. It knows no version numbers, as no version module does: the successor is the next
higher version the gateway serves, found when the versions load, so copying or renaming a module
still works. Binding, done by discovery from the highest version down, checks the declarations
against the successor's document, builds the derived document once, and adds one route per
successor operation that moves requests forward and responses back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.responses import FileResponse, StreamingResponse

from gateway.errors import DerivationError
from gateway.versioning.derivation.declarations import Declaration, endpoint
from gateway.versioning.derivation.document import derive_document
from gateway.versioning.derivation.endpoint_changes import EndpointRef
from gateway.versioning.derivation.plans import (
    OperationPlan,
    base_name,
    declared_in,
    operation_plans,
)
from gateway.versioning.derivation.refs import operations
from gateway.versioning.derivation.runtime import DerivedRoute, RouterHop
from gateway.versioning.derivation.schema_changes import FieldRef, SchemaRef
from gateway.versioning.factory import FACTORY_MARK, create_version_app, declared_scopes
from gateway.versioning.users_me import USERS_ME_PATH

DERIVATION_KEY = "gateway_derivation"

_DECLARATION_STARTS = (SchemaRef, FieldRef, EndpointRef)


@dataclass(frozen=True)
class Derivation:
    """What a derived module declared: its changes, and what it left to its successor."""

    changes: tuple[Declaration, ...]
    successor: int | None  # the version named with successor=, else the next higher one
    title: str | None
    description: str | None
    scopes: Mapping[str, str] | None
    users_me: bool = True


def derive_version(
    *,
    changes: Sequence[Declaration],
    successor: int | None = None,
    title: str | None = None,
    description: str | None = None,
    scopes: Mapping[str, str] | None = None,
    users_me: bool = True,
    **fastapi_options: Any,
) -> FastAPI:
    """A version made of ``changes`` to its successor, the next higher version served (or the
    version ``successor`` names).

    Its title, description and scopes are the successor's unless given. It has its own token
    route, docs and OpenAPI document like any version, and may add routes of its own, which win
    over derived ones; other keyword arguments go to ``create_version_app``.
    """
    for index, change in enumerate(changes):
        if isinstance(change, _DECLARATION_STARTS):
            raise TypeError(
                f"derive_version(): changes[{index}] is {change.text}, which declares nothing; "
                "end it with what changed, such as .renamed(...) or .removed()"
            )
    if successor is not None and (isinstance(successor, bool) or not isinstance(successor, int)):
        raise TypeError(f"derive_version(): successor= is a version number, got {successor!r}")
    app = create_version_app(
        title=title or "API",
        description=description or "",
        scopes=scopes,
        users_me=users_me,
        **fastapi_options,
    )
    derivation = Derivation(tuple(changes), successor, title, description, scopes, users_me)
    setattr(app.state, DERIVATION_KEY, derivation)
    return app


def derivation_of(app: object) -> Derivation | None:
    """The declarations of a derived version's app, or ``None`` for a hand-written one."""
    state = getattr(app, "state", None)
    found = getattr(state, DERIVATION_KEY, None) if state is not None else None
    return found if isinstance(found, Derivation) else None


def bind_derived(app: FastAPI, successor: FastAPI, *, successor_name: str, source: str) -> None:
    """Make ``app`` serve its declarations over ``successor`` (complete, derived or not).

    Raises ``DerivationError`` (one line starting with ``source``) for a declaration the
    successor's document contradicts.
    """
    derivation = derivation_of(app)
    assert derivation is not None
    if derivation.title is None:
        app.title = successor.title
    if derivation.description is None:
        app.description = successor.description
    if derivation.scopes is None:
        setattr(app.state, FACTORY_MARK, dict(declared_scopes(successor) or {}))
    document = successor_document(successor)
    own = successor_document(app)
    own_operations = [(method, path) for method, path, _ in operations(own)]
    changes = list(derivation.changes)
    caller = ("GET", USERS_ME_PATH)
    successor_operations = [(method, path) for method, path, _ in operations(document)]
    if not derivation.users_me and caller in set(successor_operations) - set(own_operations):
        changes.append(endpoint(*caller).removed())  # users_me=False: none, as the factory
    derived = derive_document(
        document, changes, successor_name=successor_name, source=source, own=own
    )
    plans = operation_plans(document, changes, own=own_operations, source=source)
    _refuse_streaming(successor, plans, changes, source)
    # Bound again (an app imported once, such as an entry point's, in a second gateway): the
    # routes of the first binding, over the first gateway's successor, go.
    app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, DerivedRoute)]
    for plan in plans:
        untyped_json = not _strict_content_type(successor, plan.method, plan.path)
        hop = RouterHop(successor)
        app.router.routes.append(DerivedRoute(plan, hop, untyped_json=untyped_json))
    app.openapi = _derived_openapi(app, derived)  # type: ignore[method-assign]


def _strict_content_type(successor: FastAPI, method: str, path: str) -> bool:
    """Whether the successor's route refuses to read a body without a content type as JSON
    (FastAPI's ``strict_content_type``, on by default)."""
    for route in successor.routes:
        if not isinstance(route, APIRoute | DerivedRoute) or route.path_format != path:
            continue
        if method not in (route.methods or ()):
            continue
        if isinstance(route, DerivedRoute):  # a chain: as the version it derives from
            return not route.untyped_json
        strict = getattr(route, "strict_content_type", False)  # absent: older FastAPI
        return bool(getattr(strict, "value", strict))
    return True


def successor_document(app: FastAPI) -> dict[str, Any]:
    """``app.openapi()``, leaving FastAPI's cache as it was: the document of an app not yet
    mounted still has the placeholder version, which must not stay in its own docs."""
    cached = app.openapi_schema
    document = app.openapi()
    app.openapi_schema = cached
    return document


def _derived_openapi(app: FastAPI, derived: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            info = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=[]
            )["info"]
            tags = {"tags": app.openapi_tags} if app.openapi_tags else {}
            app.openapi_schema = {**derived, "info": info, **tags}
        return app.openapi_schema

    return openapi


def _refuse_streaming(
    successor: FastAPI,
    plans: Sequence[OperationPlan],
    changes: Sequence[Declaration],
    source: str,
) -> None:
    """A declaration cannot apply to a body that is streamed: it would have to be held whole."""
    streamed = {
        (method, route.path_format)
        for route in successor.routes
        if isinstance(route, APIRoute)
        and isinstance(route.response_class, type)
        and issubclass(route.response_class, StreamingResponse | FileResponse)
        for method in route.methods or ()
    }
    for plan in plans:
        reached = {base_name(s) for p in plan.responses.values() for s in declared_in(p)}
        if (plan.method, plan.path) in streamed and reached:
            declaration = next(c for c in changes if getattr(c, "schema", None) in reached)
            raise DerivationError(
                f"{source}: {declaration.text}: {plan.method} {plan.path} streams its "
                "response; no declaration can apply to it"
            )
