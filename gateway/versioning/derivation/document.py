"""The derived version's OpenAPI document: the successor's, with the declarations applied.

The document is data, so deriving it needs nothing from FastAPI: properties renamed in place
(with their ``required`` entries and pydantic titles), removed, added and retyped; components
renamed with every ``$ref``; operations removed, moved, renamed and their statuses remapped; the
module's own operations merged in; and components no operation reaches pruned. A component that
the declarations make differ between requests and responses is split into ``Name-Input`` and
``Name-Output``, as pydantic does. The successor's document is never changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.errors import DerivationError
from gateway.versioning.derivation.checks import Checker, targets
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
    Unchanged,
)
from gateway.versioning.derivation.field_schemas import OldForms, old_forms
from gateway.versioning.derivation.own_operations import merge_own
from gateway.versioning.derivation.properties import apply_field, rename_component
from gateway.versioning.derivation.refs import (
    OPERATION_METHODS,
    SPLIT_SUFFIX,
    Side,
    operations,
    prune,
    reached,
)
from gateway.versioning.derivation.splitting import split_components

# Declarations by successor names first, renames after, so each finds what it names.
_FIELD_ORDER = (FieldChanged, FieldRemoved, FieldAdded, FieldRenamed)


def derive_document(
    successor: Mapping[str, Any],
    changes: Sequence[Declaration],
    *,
    successor_name: str = "the successor",
    source: str | None = None,
    own: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The derived document, after checking ``changes`` against ``successor`` (each problem a
    ``DerivationError`` whose line starts with ``source``, the module, when given).

    ``own`` is the document of the operations the derived module serves itself: they replace
    the derived operations at the same method and path, and their components must equal the
    derived ones of the same name.
    """
    own_operations = [(method, path) for method, path, _ in operations(own or {})]
    Checker(successor, successor_name, source, own_operations).check(changes)
    document: dict[str, Any] = copy.deepcopy(dict(successor))
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    forms: dict[int, OldForms] = {}
    for index, change in enumerate(changes):
        if isinstance(change, FieldAdded | FieldChanged):
            forms[index] = _forms_of(change)
            _add_components(schemas, forms[index], change, source)
    differing = {_schema_of(changes[i]) for i, form in forms.items() if form.differ}
    split_components(document, {t for name in differing for t in targets(name, schemas)})
    sides = reached(document)
    for kind in _FIELD_ORDER:
        for index, change in enumerate(changes):
            if isinstance(change, kind):
                for component in targets(change.schema, schemas):
                    found = forms.get(index)
                    form = found.by_side[_side(component, sides)] if found else None
                    apply_field(schemas[component], change, form)
    for change in changes:
        if isinstance(change, SchemaConverter) and not isinstance(change.document, Unchanged):
            for component in targets(change.schema, schemas):
                schemas[component] = dict(change.document(schemas[component]))
    _apply_endpoints(document, changes)
    for change in changes:
        if isinstance(change, SchemaRenamed):
            rename_component(document, change.schema, change.old_name)
    if own is not None:
        merge_own(document, own, source)
    prune(document)
    return document


def _forms_of(change: FieldAdded | FieldChanged) -> OldForms:
    if isinstance(change, FieldAdded):
        return old_forms(change.old_type, change.field_schema, change.field)
    return old_forms(change.old, change.old_schema, change.field)


def _schema_of(change: Declaration) -> str:
    assert isinstance(change, FieldAdded | FieldChanged)
    return change.schema


def _side(component: str, sides: Mapping[str, set[Side]]) -> Side:
    """The side whose form a component takes: its suffix, else the one side that reaches it."""
    for side, suffix in SPLIT_SUFFIX.items():
        if component.endswith(suffix):
            return side
    return "response" if sides.get(component) == {"response"} else "request"


def _add_components(
    schemas: dict[str, Any], form: OldForms, change: Declaration, source: str | None
) -> None:
    for name, schema in form.components.items():
        if schemas.setdefault(name, schema) != schema:
            line = f"{change.text}: its type defines {name} unlike the successor's {name}"
            raise DerivationError(f"{source}: {line}" if source else line)


def _apply_endpoints(document: dict[str, Any], changes: Sequence[Declaration]) -> None:
    """Operations changed where the successor has them, then removed or moved all at once (so
    two operations may swap places)."""
    paths: dict[str, Any] = document.setdefault("paths", {})
    for change in changes:
        if isinstance(change, OperationRenamed | StatusMapped | EndpointConverter):
            _apply_operation(paths[change.path][change.method.lower()], change)
    moving: list[tuple[EndpointMoved, dict[str, Any]]] = []
    for change in changes:
        if isinstance(change, EndpointMoved | EndpointRemoved):
            item = paths[change.path]
            operation = item.pop(change.method.lower())
            if isinstance(change, EndpointMoved):
                moving.append((change, operation))
            if not any(key in item for key in OPERATION_METHODS):
                del paths[change.path]
    for change, operation in moving:
        method = (change.old_method or change.method).lower()
        paths.setdefault(change.old_path or change.path, {})[method] = operation


def _apply_operation(
    operation: dict[str, Any], change: OperationRenamed | StatusMapped | EndpointConverter
) -> None:
    if isinstance(change, OperationRenamed):
        operation["operationId"] = change.old_operation_id
    elif isinstance(change, StatusMapped):
        responses = operation["responses"]
        operation["responses"] = {
            (str(change.old) if status == str(change.new) else status): response
            for status, response in responses.items()
        }
    elif not isinstance(change.document, Unchanged):
        replaced = dict(change.document(operation))
        operation.clear()
        operation.update(replaced)
