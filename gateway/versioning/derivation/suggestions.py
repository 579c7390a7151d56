"""A derived version's changes against its snapshot, turned into the declarations that undo them.

``compare(snapshot, derived document)`` says what a derived version's clients would see differ;
each change's ``detail`` says it as data. From it and the successor's document come declarations
in the successor's names (a component the derived version renamed is named as the successor
names it), ready to paste or for ``versions derive`` to write:

- a field gone on one side and one of the same type new on the other is a rename, with the
  alternative (the one removed, the other added) named too; otherwise a removal, or an addition
  with the old type written out from the snapshot;
- another type or other enum values: ``changed`` with the snapshot's schema and two converters;
- an operation the successor has and the snapshot lacks is removed, one it serves elsewhere
  under the same operationId moved, an operationId renamed, a success status mapped.

What the declarations cannot say (query parameters with no equivalent, an operation the successor
lacks) is a one-line problem; what only code can say is a ``Stub`` the declaration names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.contracts.compare import Change
from gateway.versioning.derivation.declarations import Declaration
from gateway.versioning.derivation.field_restorations import FieldRestorer
from gateway.versioning.derivation.operation_restorations import OperationRestorer
from gateway.versioning.derivation.restoration import (
    Context,
    Document,
    Restoration,
    SuccessorNames,
)
from gateway.versioning.derivation.stubs import StubNames

__all__ = ["Restoration", "Suggested", "declarations_of", "suggest"]


@dataclass(frozen=True)
class Suggested:
    change: Change
    restoration: Restoration


def suggest(
    changes: Sequence[Change],
    *,
    snapshot: Document,
    successor: Document,
    declared: Sequence[Declaration] = (),
    version_name: str = "this version",
    successor_name: str = "the successor",
    taken: Iterable[str] = (),
) -> list[Suggested]:
    """Each of ``changes`` (from ``compare(snapshot, derived document)``) with what restores it.

    ``declared`` are the version's declarations so far, through which the derived document's
    names lead back to the successor's; ``taken`` are names a stub must not reuse.
    """
    names = SuccessorNames(successor, declared)
    context = Context(snapshot, successor, names, (version_name, successor_name), StubNames(taken))
    fields, operations = FieldRestorer(context), OperationRestorer(context)
    fields.pair_fields(changes)
    return [Suggested(c, _restore(c, changes, fields, operations)) for c in changes]


def declarations_of(suggested: Iterable[Suggested]) -> list[Declaration]:
    """The declarations that restore every change, each once, in order."""
    found: dict[str, Declaration] = {}
    for entry in suggested:
        for declaration in entry.restoration.declarations:
            found.setdefault(declaration.text, declaration)
    return list(found.values())


def _restore(
    change: Change,
    changes: Sequence[Change],
    fields: FieldRestorer,
    operations: OperationRestorer,
) -> Restoration:
    detail = change.detail
    found: Restoration | None = None
    if detail is None:
        found = None
    elif detail.kind in ("field removed", "field added"):
        found = fields.field(detail, changes)
    elif detail.kind in ("type changed", "enum values removed", "enum values added"):
        found = fields.retyped(change, detail)
    elif detail.kind in ("operation removed", "path removed"):
        found = operations.operations_gone(detail, changes)
    elif detail.kind in ("operation added", "path added"):
        found = operations.operations_new(detail, changes)
    elif detail.kind == "operationId changed":
        found = operations.named(detail)
    elif detail.kind in ("response removed", "response added"):
        found = operations.status(detail, changes)
    elif detail.kind in ("parameter removed", "parameter added"):
        found = Restoration(problem=operations.parameters(detail, changes))
    return found or fields.unrestorable(change)
