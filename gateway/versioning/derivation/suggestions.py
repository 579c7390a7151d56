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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.contracts.compare import Change, Detail
from gateway.versioning.derivation.checks import targets
from gateway.versioning.derivation.declarations import (
    Declaration,
    EndpointMoved,
    EndpointRef,
    EndpointRemoved,
    FieldRef,
    FieldRenamed,
    SchemaRef,
    SchemaRenamed,
)
from gateway.versioning.derivation.field_schemas import pydantic_title
from gateway.versioning.derivation.refs import (
    OPERATION_METHODS,
    SPLIT_SUFFIX,
    reached,
    referenced,
)
from gateway.versioning.derivation.stubs import Stub, StubNames

Document = Mapping[str, Any]
Operation = tuple[str, str]
Pair = tuple[str | None, str | None]  # a component as the snapshot and the derived document name it
Signature = tuple[tuple[str, ...], object]  # a field's JSON types and format
FACTORY_PATHS = ("/token", "/revoke", "/users/me")


@dataclass(frozen=True)
class Restoration:
    """What restores one change: ``declarations``, or ``alternative`` when ``condition`` holds
    instead; ``problem`` says in one line what they cannot do, or what a stub must."""

    declarations: tuple[Declaration, ...] = ()
    alternative: tuple[Declaration, ...] = ()
    condition: str = ""
    problem: str | None = None
    stubs: tuple[Stub, ...] = ()


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
    suggester = _Suggester(snapshot, successor, declared, (version_name, successor_name), taken)
    suggester.pair_fields(changes)
    return [Suggested(change, suggester.restore(change, changes)) for change in changes]


def declarations_of(suggested: Iterable[Suggested]) -> list[Declaration]:
    """The declarations that restore every change, each once, in order."""
    found: dict[str, Declaration] = {}
    for entry in suggested:
        for declaration in entry.restoration.declarations:
            found.setdefault(declaration.text, declaration)
    return list(found.values())


class _Names:
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


class _Suggester:
    def __init__(
        self,
        snapshot: Document,
        successor: Document,
        declared: Sequence[Declaration],
        names: tuple[str, str],
        taken: Iterable[str],
    ) -> None:
        self.snapshot, self.successor = snapshot, successor
        self.old_schemas: Mapping[str, Any] = snapshot.get("components", {}).get("schemas", {})
        self.old_sides, self.new_sides = reached(snapshot), reached(successor)
        self.names = _Names(successor, declared)
        self.version, self.other = names
        self.stubs = StubNames(taken)
        self.paired: dict[tuple[object, ...], Restoration] = {}
        self.renames: dict[tuple[Pair, str, str], str] = {}

    def pair_fields(self, changes: Sequence[Change]) -> None:
        """Find the renames: in one component, a field gone and a field new that are each
        other's only match by type (and format: a date-time string is no title)."""
        gone: dict[Pair, dict[str, Signature]] = {}
        new: dict[Pair, dict[str, Signature]] = {}
        for change in changes:
            detail = change.detail
            if detail is None or detail.field is None or detail.schema is None:
                continue
            pair: Pair = (detail.old_schema, detail.schema)
            signature: Signature
            if detail.kind == "field removed" and detail.old_types is not None:
                found = self.old_property(detail.old_schema, detail.field)
                signature = (detail.old_types, found.get("format"))
                gone.setdefault(pair, {})[detail.field] = signature
            elif detail.kind == "field added" and detail.new_types is not None:
                schema = self.names.schema(detail.schema) or detail.schema
                found = self.new_property(schema, self.names.field(schema, detail.field))
                signature = (detail.new_types, found.get("format"))
                new.setdefault(pair, {})[detail.field] = signature
        for components, removed in gone.items():
            added = new.get(components, {})
            for old_name, wanted in removed.items():
                matches = [name for name, other in added.items() if other == wanted]
                rivals = [name for name, other in removed.items() if other == wanted]
                if len(matches) == 1 and len(rivals) == 1:
                    self.renames[(components, "removed", old_name)] = matches[0]
                    self.renames[(components, "added", matches[0])] = old_name

    def old_property(self, schema: str | None, field: str) -> Mapping[str, Any]:
        found = self.old_schemas.get(schema or "", {}).get("properties", {}).get(field)
        return found if isinstance(found, Mapping) else {}

    def new_property(self, schema: str, field: str) -> Mapping[str, Any]:
        for component in targets(schema, self.names.schemas):
            found = self.names.schemas[component].get("properties", {}).get(field)
            if isinstance(found, Mapping):
                return found
        return {}

    def restore(self, change: Change, changes: Sequence[Change]) -> Restoration:
        detail = change.detail
        if detail is None:
            return self.unrestorable(change)
        kind = detail.kind
        if kind in ("field removed", "field added"):
            return self.field(detail, changes) or self.unrestorable(change)
        if kind in ("type changed", "enum values removed", "enum values added"):
            return self.retyped(change, detail) or self.unrestorable(change)
        if kind in ("operation removed", "path removed"):
            return self.operations_gone(detail, changes)
        if kind in ("operation added", "path added"):
            return self.operations_new(detail, changes)
        if kind == "operationId changed" and detail.old_operation_id is not None:
            method, path = self.names.operation(str(detail.method), str(detail.path))
            return Restoration((EndpointRef(method, path).named(detail.old_operation_id),))
        if kind in ("response removed", "response added"):
            return self.status(detail, changes) or self.unrestorable(change)
        if kind in ("parameter removed", "parameter added"):
            return Restoration(problem=self.parameters(detail, changes))
        return self.unrestorable(change)

    def unrestorable(self, change: Change) -> Restoration:
        return Restoration(
            problem=f"{change}: no declaration restores it; keep a route of your own for it"
        )

    # Fields.

    def field(self, detail: Detail, changes: Sequence[Change]) -> Restoration | None:
        if detail.schema is None or detail.old_schema is None or detail.field is None:
            return None
        schema = self.names.schema(detail.schema)
        if schema is None:
            return None
        renamed = self.schema_rename(detail.schema, detail.old_schema, schema)
        key = (detail.old_schema, detail.schema)
        pair: tuple[str | None, str | None]
        if detail.kind == "field removed":
            pair = (self.renames.get((key, "removed", detail.field)), detail.field)
        else:
            pair = (detail.field, self.renames.get((key, "added", detail.field)))
        new_name, old_name = pair
        if old_name is not None and new_name is not None:
            field = self.names.field(schema, new_name)
            restoration = self.rename(schema, detail.old_schema, field, old_name)
        elif detail.kind == "field removed":
            restoration = self.addition(schema, detail.old_schema, detail.field)
        else:
            restoration = self.removal(schema, self.names.field(schema, detail.field))
        if renamed is None:
            return restoration
        return Restoration(
            (renamed, *restoration.declarations),
            restoration.alternative,
            restoration.condition,
            restoration.problem,
            restoration.stubs,
        )

    def schema_rename(self, new: str, old: str, schema: str) -> SchemaRenamed | None:
        """``schema("ItemCreate").renamed("ItemIn")`` when the snapshot names the component
        otherwise than the derived document does; a split's suffix alone is no rename."""
        for suffix in SPLIT_SUFFIX.values():
            if new.endswith(suffix) and old.endswith(suffix):
                new, old = new.removesuffix(suffix), old.removesuffix(suffix)
            elif new.removesuffix(suffix) == old or old.removesuffix(suffix) == new:
                return None
        if new == old or old == schema:
            return None
        return SchemaRef(schema).renamed(old)

    def rename(self, schema: str, old_schema: str, field: str, old_name: str) -> Restoration:
        key: tuple[object, ...] = ("rename", schema, field, old_name)
        if key not in self.paired:
            removal, addition = (
                self.removal(schema, field),
                self.addition(schema, old_schema, old_name),
            )
            self.paired[key] = Restoration(
                (FieldRef(schema, field).renamed(old_name),),
                (*removal.declarations, *addition.declarations),
                f"if {field} is new and {old_name} is gone",
            )
        return self.paired[key]

    def addition(self, schema: str, old_schema: str, field: str) -> Restoration:
        """The field only the snapshot has, with the snapshot's type written out."""
        component = self.old_schemas.get(old_schema, {})
        found = component.get("properties", {}).get(field)
        if not isinstance(found, Mapping):
            return Restoration(problem=f"{old_schema}.{field}: the snapshot does not describe it")
        missing = [name for name in referenced(found) if not targets(name, self.names.schemas)]
        if missing:
            return Restoration(
                problem=f"{schema}.{field}: its type {missing[0]} is not in {self.other}; "
                "declare it with added(OldType, ...), the old model as a class"
            )
        written = dict(found)
        if written.get("title") == pydantic_title(field):
            del written["title"]
        required = field in component.get("required", [])
        stubs: tuple[Stub, ...] = ()
        problem = None
        if "default" in found:
            fill: Any = found["default"]
        elif "response" in self.old_sides.get(old_schema, set()):
            stub = self.stubs.stub(
                ("fill", field, _type_key(found)),
                [f"fill_{field}", f"fill_{schema}_{field}"],
                "item",
                f"The value of {field} in this version's {schema}, from {self.other}'s object.",
            )
            fill, stubs = stub, (stub,)
            problem = f"{schema}.{field}: {self.other} has no such field; write {stub.__name__}"
        else:
            fill = None  # only ever sent: nothing to fill in
        declaration = FieldRef(schema, field).added(schema=written, fill=fill, required=required)
        return Restoration((declaration,), problem=problem, stubs=stubs)

    def removal(self, schema: str, field: str) -> Restoration:
        """The field only the successor has; a required one needs its value in old requests."""
        required = any(
            field in self.names.schemas[c].get("required", [])
            and "request" in self.new_sides.get(c, set())
            for c in targets(schema, self.names.schemas)
        )
        if not required:
            return Restoration((FieldRef(schema, field).removed(),))
        stub = self.stubs.stub(
            ("from_request", schema, field),
            [f"{field}_from_request", f"{schema}_{field}_from_request"],
            "request",
            f"The value of {self.other}'s {schema}.{field} for a request of this version.",
        )
        return Restoration(
            (FieldRef(schema, field).removed(from_request=stub),),
            problem=f"{schema}.{field}: {self.other} requires it in requests; "
            f"write {stub.__name__}",
            stubs=(stub,),
        )

    def retyped(self, change: Change, detail: Detail) -> Restoration | None:
        if detail.schema is None or detail.old_schema is None or detail.field is None:
            return None
        schema = self.names.schema(detail.schema)
        found = self.old_schemas.get(detail.old_schema, {}).get("properties", {}).get(detail.field)
        if schema is None or not isinstance(found, Mapping) or list(referenced(found)):
            return None
        field = self.names.field(schema, detail.field)
        written = dict(found)
        if written.get("title") == pydantic_title(detail.field):
            del written["title"]
        need = ("changed", field, detail.new_types)
        forward = self.stubs.stub(
            (*need, "forward"),
            [f"{field}_forward", f"{schema}_{field}_forward"],
            "value",
            f"{field} as {self.other} types it, from any value this version accepts.",
        )
        back = self.stubs.stub(
            (*need, "back"),
            [f"{field}_back", f"{schema}_{field}_back"],
            "value",
            f"{field} as this version types it, from {self.other}'s value.",
        )
        if detail.kind == "type changed":
            was = " | ".join(detail.old_types or ())
            now = " | ".join(detail.new_types or ())
            what = f"{was} in {self.version}, {now} in {self.other}"
        else:
            what = change.what.split(": ", 1)[-1]
        declaration = FieldRef(schema, field).changed(
            old_schema=written, forward=forward, back=back
        )
        return Restoration(
            (declaration,),
            problem=f"{schema}.{field}: {what}; write {forward.__name__} and {back.__name__}",
            stubs=(forward, back),
        )

    # Operations.

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
            elif path in FACTORY_PATHS:
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


def _type_key(schema: Mapping[str, Any]) -> object:
    return schema.get("type") if not isinstance(schema.get("type"), list) else tuple(schema["type"])


def _parameters(place: str, names: list[str], verb: bool = True) -> str:
    if len(names) == 1:
        return f"{place} parameter {names[0]}" + (" has" if verb else "")
    return f"{place} parameters {', '.join(names)}" + (" have" if verb else "")
