"""``derive_version``, and the binding of a derived version to its successor when versions load.

A derived module's ``app`` is an ordinary version app (``create_version_app``) that carries its
declarations. It knows no version numbers, as no version module does: the successor is the next
higher version the gateway serves, found when the versions load, so copying or renaming a module
still works. Binding, done by discovery from the highest version down, checks the declarations
against the successor's document, builds the derived document once, and adds one route per
successor operation that moves requests forward and responses back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from gateway.versioning.derivation.declarations import Declaration
from gateway.versioning.derivation.endpoint_changes import EndpointRef
from gateway.versioning.derivation.schema_changes import FieldRef, SchemaRef
from gateway.versioning.factory import create_version_app

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
    derivation = Derivation(tuple(changes), successor, title, description, scopes)
    setattr(app.state, DERIVATION_KEY, derivation)
    return app


def derivation_of(app: object) -> Derivation | None:
    """The declarations of a derived version's app, or ``None`` for a hand-written one."""
    state = getattr(app, "state", None)
    found = getattr(state, DERIVATION_KEY, None) if state is not None else None
    return found if isinstance(found, Derivation) else None
