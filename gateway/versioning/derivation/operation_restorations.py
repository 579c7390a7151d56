"""Restoring a derived version's operations: removed, moved back, named back, a status mapped.

An operation the successor has and the snapshot lacks is removed; one the snapshot has at a
place the successor no longer serves is moved back when the successor serves an operation of
the same operationId elsewhere; an operationId changed is named back; one success status gone and
one new on the same operation is a status mapped. Parameters with no equivalent, and operations
the successor lacks, are problems: a route of the module's own must serve them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.contracts.compare import Change, Detail
from gateway.versioning.derivation.declarations import Declaration, EndpointRef
from gateway.versioning.derivation.refs import OPERATION_METHODS
from gateway.versioning.derivation.restoration import Operation, Restoration, Restorer
from gateway.versioning.docs import FACTORY_OPERATIONS


class OperationRestorer(Restorer):
    """Operation changes into endpoint declarations."""

    def named(self, detail: Detail) -> Restoration | None:
        if detail.old_operation_id is None:
            return None
        method, path = self.names.operation(str(detail.method), str(detail.path))
        return Restoration((EndpointRef(method, path).named(detail.old_operation_id),))

    def operations_gone(self, detail: Detail, changes: Sequence[Change]) -> Restoration:
        """Operations the snapshot has and the derived document lacks: moved back if the
        successor serves them elsewhere under the same operationId."""
        path = str(detail.path)
        item = self.snapshot.get("paths", {}).get(path, {})
        methods = [detail.method] if detail.method else _methods(item)
        declarations: list[Declaration] = []
        problems: list[str] = []
        for method in methods:
            operation_id = item.get(str(method).lower(), {}).get("operationId")
            derived = self.derived_operations(changes)
            target = next(
                (at for at, i in derived.items() if operation_id and i == operation_id), None
            )
            successor_at = self.names.operation(str(method), path)
            if successor_at in self.names.removed:
                problems.append(
                    f"{method} {path}: {self.names.removed[successor_at].text} removes it; "
                    "drop that declaration"
                )
            elif target is None:
                problems.append(
                    f"{method} {path}: {self.other} has no such operation; "
                    "keep a route of your own for it"
                )
            else:
                declarations.append(self.move(target, (str(method), path)))
        return Restoration(tuple(declarations), problem="; ".join(problems) or None)

    def operations_new(self, detail: Detail, changes: Sequence[Change]) -> Restoration:
        path = str(detail.path)
        derived = self.derived_operations(changes)
        methods = [detail.method] if detail.method else [m for m, p in derived if p == path]
        declarations: list[Declaration] = []
        problems: list[str] = []
        for method in methods:
            at = (str(method), path)
            origin = self.moved_from(at, changes)
            if origin is not None:
                declarations.append(self.move(at, origin))
            elif path in FACTORY_OPERATIONS:
                problems.append(
                    f"{method} {path}: the version factory adds it; "
                    + ("give derive_version(users_me=False)" if path == "/users/me" else "keep it")
                )
            else:
                declarations.append(EndpointRef(*self.names.operation(*at)).removed())
        return Restoration(tuple(declarations), problem="; ".join(problems) or None)

    def derived_operations(self, changes: Sequence[Change]) -> dict[Operation, str | None]:
        """The operations only the derived document has, as the changes report them, with
        their operationIds in the successor's document."""
        found: dict[Operation, str | None] = {}
        paths = self.successor.get("paths", {})
        for change in changes:
            detail = change.detail
            if detail is None or detail.kind not in ("operation added", "path added"):
                continue
            path = str(detail.path)
            methods = [detail.method] if detail.method else None
            for method in methods or [m.upper() for m in OPERATION_METHODS]:
                successor_method, successor_path = self.names.operation(method, path)
                operation = paths.get(successor_path, {}).get(successor_method.lower())
                if operation is not None or methods:
                    found[(method, path)] = (operation or {}).get("operationId")
        return found

    def moved_from(self, at: Operation, changes: Sequence[Change]) -> Operation | None:
        """Where the snapshot has the operation the derived document serves at ``at``."""
        operation_id = self.derived_operations(changes).get(at)
        if operation_id is None:
            return None
        for change in changes:
            detail = change.detail
            if detail is None or detail.kind not in ("operation removed", "path removed"):
                continue
            item = self.snapshot.get("paths", {}).get(str(detail.path), {})
            for method in [detail.method] if detail.method else _methods(item):
                if item.get(str(method).lower(), {}).get("operationId") == operation_id:
                    return str(method), str(detail.path)
        return None

    def move(self, at: Operation, old: Operation) -> Declaration:
        method, path = self.names.operation(*at)
        return EndpointRef(method, path).moved(
            path=None if old[1] == path else old[1],
            method=None if old[0] == method else old[0],
        )

    def status(self, detail: Detail, changes: Sequence[Change]) -> Restoration | None:
        """One success status gone and one new on the same operation: the status was mapped."""
        gone, new = [], []
        for change in changes:
            other = change.detail
            if other is None or (other.method, other.path) != (detail.method, detail.path):
                continue
            if other.status is not None and other.status.startswith("2"):
                if other.kind == "response removed":
                    gone.append(other.status)
                elif other.kind == "response added":
                    new.append(other.status)
        if len(gone) != 1 or len(new) != 1 or not (gone[0] + new[0]).isdigit():
            return None
        method, path = self.names.operation(str(detail.method), str(detail.path))
        return Restoration((EndpointRef(method, path).status(old=int(gone[0]), new=int(new[0])),))

    def parameters(self, detail: Detail, changes: Sequence[Change]) -> str:
        """One line for all the parameters an operation's clients would see differ."""
        gone: dict[str, list[str]] = {}
        new: dict[str, list[str]] = {}
        for change in changes:
            other = change.detail
            if other is None or other.parameter is None:
                continue
            if (other.method, other.path) == (detail.method, detail.path):
                place, name = other.parameter
                side = gone if other.kind == "parameter removed" else new
                side.setdefault(place, []).append(name)
        parts = [
            f"{_parameters(place, names)} no equivalent in {self.other}"
            for place, names in gone.items()
        ]
        parts += [
            f"{self.other} adds {_parameters(place, names, verb=False)}"
            for place, names in new.items()
        ]
        return f"{detail.method} {detail.path}: {'; '.join(parts)}; keep a route of your own"


def _methods(item: Mapping[str, Any]) -> list[str]:
    return [method.upper() for method in OPERATION_METHODS if method in item]


def _parameters(place: str, names: list[str], verb: bool = True) -> str:
    if len(names) == 1:
        return f"{place} parameter {names[0]}" + (" has" if verb else "")
    return f"{place} parameters {', '.join(names)}" + (" have" if verb else "")
