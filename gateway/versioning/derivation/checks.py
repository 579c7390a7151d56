"""Declarations checked against the successor's document and each other, when a version loads.

A declaration that names what the successor lacks would silently do nothing, and two that
contradict each other would make the document and the data disagree; either way old clients
would see a difference nobody declared. So each problem stops the version with one line naming
the declaration by its text, which the operator can search for in the module.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gateway.errors import DerivationError
from gateway.versioning.derivation.declarations import (
    Declaration,
    EndpointConverter,
    EndpointMoved,
    EndpointRemoved,
    FieldAdded,
    FieldChanged,
    FieldRemoved,
    FieldRenamed,
    OperationRenamed,
    SchemaConverter,
    SchemaRenamed,
    StatusMapped,
)
from gateway.versioning.derivation.json_types import MISSING
from gateway.versioning.derivation.refs import SPLIT_SUFFIX, operations, reached

FieldDeclaration = FieldRenamed | FieldRemoved | FieldAdded | FieldChanged
EndpointDeclaration = (
    EndpointRemoved | EndpointMoved | OperationRenamed | StatusMapped | EndpointConverter
)
Operation = tuple[str, str]


def targets(name: str, schemas: Mapping[str, Any]) -> list[str]:
    """The components a schema name designates: itself, or its ``-Input``/``-Output`` pair."""
    if name in schemas:
        return [name]
    return [name + suffix for suffix in SPLIT_SUFFIX.values() if name + suffix in schemas]


def old_location(declaration: EndpointDeclaration) -> Operation:
    """Where the old version serves the operation a declaration names."""
    if isinstance(declaration, EndpointMoved):
        return (
            declaration.old_method or declaration.method,
            declaration.old_path or declaration.path,
        )
    return declaration.method, declaration.path


class Checker:
    """Collects nothing: the first problem raises, as a version stops at its first broken line."""

    def __init__(
        self,
        successor: Mapping[str, Any],
        successor_name: str,
        source: str | None,
        own: Iterable[Operation] = (),
    ) -> None:
        self.schemas: Mapping[str, Any] = successor.get("components", {}).get("schemas", {})
        self.operations = {(m, p): op for m, p, op in operations(successor)}
        self.sides = reached(successor)
        self.successor, self.source, self.own = successor_name, source, set(own)

    def fail(self, declaration: Declaration, problem: str, joint: str = ": ") -> DerivationError:
        line = f"{declaration.text}{joint}{problem}"
        return DerivationError(f"{self.source}: {line}" if self.source else line)

    def check(self, changes: Sequence[Declaration]) -> None:
        first: dict[tuple[object, ...], Declaration] = {}
        for declaration in changes:
            for key in _claims(declaration):
                if key in first and not _compatible(key[0], first[key], declaration):
                    raise self.fail(declaration, f"contradicts {first[key].text}", " ")
                first.setdefault(key, declaration)
            if isinstance(declaration, SchemaRenamed | SchemaConverter | FieldDeclaration):
                self.schema(declaration, changes)
            else:
                self.endpoint(declaration, changes)

    def schema(self, declaration: Declaration, changes: Sequence[Declaration]) -> None:
        assert isinstance(declaration, SchemaRenamed | SchemaConverter | FieldDeclaration)
        components = targets(declaration.schema, self.schemas)
        if not components:
            close = difflib.get_close_matches(declaration.schema, list(self.schemas), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise self.fail(
                declaration, f"{self.successor} has no schema {declaration.schema}{hint}"
            )
        if isinstance(declaration, SchemaRenamed):
            taken = {declaration.old_name + s for s in ("", *SPLIT_SUFFIX.values())}
            if taken & set(self.schemas) - set(components):
                raise self.fail(
                    declaration, f"{self.successor} already has a schema {declaration.old_name}"
                )
        if isinstance(declaration, FieldDeclaration):
            for component in components:
                self.field(declaration, component, changes)

    def field(
        self, declaration: FieldDeclaration, component: str, changes: Sequence[Declaration]
    ) -> None:
        properties: Mapping[str, Any] = self.schemas[component].get("properties", {})
        if isinstance(declaration, FieldAdded):
            if declaration.field in properties:
                raise self.fail(declaration, f"{component} already has a field {declaration.field}")
            return
        if declaration.field not in properties:
            has = ", ".join(properties) or "no fields"
            raise self.fail(
                declaration,
                f"{self.successor}'s {component} has no field {declaration.field}; it has {has}",
            )
        if isinstance(declaration, FieldRenamed):
            moved_away = {
                c.field
                for c in changes
                if isinstance(c, FieldRenamed | FieldRemoved) and c.schema == declaration.schema
            }
            if declaration.old_name in set(properties) - moved_away:
                raise self.fail(
                    declaration, f"{component} already has a field {declaration.old_name}"
                )
        if isinstance(declaration, FieldRemoved):
            required = declaration.field in self.schemas[component].get("required", [])
            no_value = declaration.from_request is None and declaration.default is MISSING
            if required and no_value and "request" in self.sides.get(component, set()):
                raise self.fail(
                    declaration,
                    f"{self.successor} requires {declaration.field} in requests; "
                    "give default= or from_request=",
                )

    def endpoint(self, declaration: Declaration, changes: Sequence[Declaration]) -> None:
        assert isinstance(declaration, EndpointDeclaration)
        where = f"{declaration.method} {declaration.path}"
        operation = self.operations.get((declaration.method, declaration.path))
        if operation is None:
            raise self.fail(declaration, f"{self.successor} has no operation {where}")
        old_method, old_path = old = old_location(declaration)
        if old in self.own:
            raise self.fail(
                declaration, f"the module serves {old_method} {old_path} itself; drop one of them"
            )
        if isinstance(declaration, EndpointMoved):
            vacated = {
                (c.method, c.path)
                for c in changes
                if isinstance(c, EndpointMoved | EndpointRemoved)
            }
            if old in set(self.operations) - vacated:
                raise self.fail(
                    declaration,
                    f"{self.successor} already has {old_method} {old_path}; remove or move it too",
                )
        if isinstance(declaration, StatusMapped):
            responses = operation.get("responses", {})
            if str(declaration.new) not in responses:
                raise self.fail(declaration, f"{where} has no response {declaration.new}")
            remapped = {
                str(c.new)
                for c in changes
                if isinstance(c, StatusMapped)
                and (c.method, c.path) == (declaration.method, declaration.path)
            }
            if str(declaration.old) in set(responses) - remapped:
                raise self.fail(declaration, f"{where} already answers {declaration.old}")


def _claims(declaration: Declaration) -> list[tuple[object, ...]]:
    """What a declaration decides; two deciding the same thing must be compatible."""
    if isinstance(declaration, SchemaRenamed):
        return [("schema", declaration.schema)]
    if isinstance(declaration, SchemaConverter):
        return []
    if isinstance(declaration, FieldRenamed):
        return [
            ("field", declaration.schema, declaration.field),
            ("old field", declaration.schema, declaration.old_name),
        ]
    if isinstance(declaration, FieldAdded):
        return [("old field", declaration.schema, declaration.field)]
    if isinstance(declaration, FieldRemoved | FieldChanged):
        return [("field", declaration.schema, declaration.field)]
    if isinstance(declaration, StatusMapped):
        operation = (declaration.method, declaration.path)
        return [
            ("endpoint", *operation),
            ("new status", *operation, declaration.new),
            ("old status", *operation, declaration.old),
        ]
    claims: list[tuple[object, ...]] = [("endpoint", declaration.method, declaration.path)]
    if isinstance(declaration, EndpointMoved):
        claims.append(("old endpoint", *old_location(declaration)))
    return claims


def _compatible(kind: object, first: Declaration, second: Declaration) -> bool:
    """Whether two declarations that decide the same ``kind`` of thing can both hold: a field
    may be renamed and retyped, an operation renamed, moved and remapped; nothing else."""
    if kind == "field":
        return {type(first), type(second)} == {FieldRenamed, FieldChanged}
    if kind == "endpoint":
        if isinstance(first, EndpointRemoved) or isinstance(second, EndpointRemoved):
            return False
        repeatable = isinstance(first, StatusMapped | EndpointConverter)
        return type(first) is not type(second) or repeatable
    return False
