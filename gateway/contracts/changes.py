"""A change between two OpenAPI documents: a line of text for people, and the same as data.

``compare`` finds the changes; each is where it is and what it is, in words, and whether it
breaks clients. Where a tool can act on a change (a field removed from a component, an
operationId changed, a status gone), its ``Detail`` says the same as data: a derived version's
declarations that restore a snapshot are suggested from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["request", "response"]
DetailKind = Literal[
    "path removed",
    "path added",
    "operation removed",
    "operation added",
    "operationId changed",
    "parameter removed",
    "parameter added",
    "response removed",
    "response added",
    "field removed",
    "field added",
    "field now required",
    "field now optional",
    "type changed",
    "enum values removed",
    "enum values added",
]


@dataclass(frozen=True)
class Detail:
    """A change as data. ``schema`` and ``old_schema`` name the component that holds ``field`` in
    the new and the old document (``None`` for a schema written inline); the types are JSON
    Schema types (``("integer", "null")``) of the field, or of what changed inside it."""

    kind: DetailKind
    method: str | None = None  # ``None`` for a whole path
    path: str | None = None
    direction: Direction | None = None
    schema: str | None = None
    old_schema: str | None = None
    field: str | None = None
    old_types: tuple[str, ...] | None = None
    new_types: tuple[str, ...] | None = None
    status: str | None = None
    parameter: tuple[str, str] | None = None  # (place, name): ``("query", "skip")``
    old_operation_id: str | None = None
    new_operation_id: str | None = None


@dataclass(frozen=True)
class Change:
    """One difference: where (``GET /items/{item_id}``), what changed, and whether it breaks;
    ``detail`` says it as data where a tool can act on it (it takes no part in equality)."""

    where: str
    what: str
    breaking: bool
    detail: Detail | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"
