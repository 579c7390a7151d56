"""What restores one change of a derived version, and the names it is written in.

A change is found in the derived document, which speaks the old version's names; a declaration
names the successor's. ``SuccessorNames`` leads one back to the other through the declarations
made so far (a component renamed, a field renamed, an operation moved), and ``Restorer`` is what
the field and operation restorers share: both documents, those names, and one set of stubs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.contracts.compare import Change
from gateway.versioning.derivation.checks import targets
from gateway.versioning.derivation.declarations import (
    Declaration,
    EndpointMoved,
    EndpointRemoved,
    FieldRenamed,
    SchemaRenamed,
)
from gateway.versioning.derivation.refs import SPLIT_SUFFIX, reached
from gateway.versioning.derivation.stubs import Stub, StubNames

Document = Mapping[str, Any]
Operation = tuple[str, str]


@dataclass(frozen=True)
class Restoration:
    """What restores one change: ``declarations``, or ``alternative`` when ``condition`` holds
    instead; ``problem`` says in one line what they cannot do, or what a stub must."""

    declarations: tuple[Declaration, ...] = ()
    alternative: tuple[Declaration, ...] = ()
    condition: str = ""
    problem: str | None = None
    stubs: tuple[Stub, ...] = ()


class SuccessorNames:
    """The derived document's names led back to the successor's through the declarations."""

    def __init__(self, successor: Document, declared: Sequence[Declaration]) -> None:
        self.schemas: Mapping[str, Any] = successor.get("components", {}).get("schemas", {})
        self.schema_renames = {
            c.old_name: c.schema for c in declared if isinstance(c, SchemaRenamed)
        }
        self.field_renames = {
            (c.schema, c.old_name): c.field for c in declared if isinstance(c, FieldRenamed)
        }
        self.moves = {
            (c.old_method or c.method, c.old_path or c.path): (c.method, c.path)
            for c in declared
            if isinstance(c, EndpointMoved)
        }
        self.removed = {(c.method, c.path): c for c in declared if isinstance(c, EndpointRemoved)}

    def schema(self, derived: str) -> str | None:
        """The successor's name for a derived component; ``Price`` for a ``Price-Input`` split
        that only the derived document has."""
        exact = self.schema_renames.get(derived, derived)
        if exact in self.schemas:
            return exact
        for suffix in SPLIT_SUFFIX.values():
            if derived.endswith(suffix):
                base = derived.removesuffix(suffix)
                base = self.schema_renames.get(base, base)
                if targets(base, self.schemas):
                    return base
        return exact if targets(exact, self.schemas) else None

    def field(self, schema: str, derived: str) -> str:
        return self.field_renames.get((schema, derived), derived)

    def operation(self, method: str, path: str) -> Operation:
        return self.moves.get((method, path), (method, path))


@dataclass(frozen=True)
class Context:
    """What every restorer works from: both documents, the names between them, the versions'
    names (``v2``, ``v3``) for the problem lines, and the stubs made so far."""

    snapshot: Document
    successor: Document
    names: SuccessorNames
    versions: tuple[str, str]
    stubs: StubNames


class Restorer:
    """The snapshot and the successor's document, the names between them, and the stubs."""

    def __init__(self, context: Context) -> None:
        self.snapshot, self.successor = context.snapshot, context.successor
        self.names, self.stubs = context.names, context.stubs
        self.old_schemas: Mapping[str, Any] = self.snapshot.get("components", {}).get("schemas", {})
        self.old_sides, self.new_sides = reached(self.snapshot), reached(self.successor)
        self.version, self.other = context.versions

    def unrestorable(self, change: Change) -> Restoration:
        return Restoration(
            problem=f"{change}: no declaration restores it; keep a route of your own for it"
        )
