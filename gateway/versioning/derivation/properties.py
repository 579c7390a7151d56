"""One component changed as a declaration says: a property renamed, removed, added or retyped.

pydantic writes a property's ``title`` from the field's name and lists ``required`` in field
order, so a renamed field keeps its position, its ``required`` entry and (when the title is
pydantic's own) a title after its old name: the derived component is the one a hand-written
model of the old version would produce, key for key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.versioning.derivation.declarations import (
    FieldAdded,
    FieldChanged,
    FieldRemoved,
    FieldRenamed,
)
from gateway.versioning.derivation.field_schemas import property_schema, pydantic_title
from gateway.versioning.derivation.refs import SPLIT_SUFFIX, rewrite_refs

FieldDeclaration = FieldRenamed | FieldRemoved | FieldAdded | FieldChanged


def apply_field(
    component: dict[str, Any], change: FieldDeclaration, form: Mapping[str, Any] | None
) -> None:
    """Apply one field declaration to a component (in place); ``form`` is the old field's schema
    for this component's side, for ``added`` and ``changed``."""
    properties: dict[str, Any] = component.setdefault("properties", {})
    required: list[str] = list(component.get("required", []))
    if isinstance(change, FieldRenamed):
        component["properties"] = {
            (change.old_name if name == change.field else name): schema
            for name, schema in properties.items()
        }
        renamed = component["properties"][change.old_name]
        if isinstance(renamed, dict) and renamed.get("title") == pydantic_title(change.field):
            renamed["title"] = pydantic_title(change.old_name)
        required = [change.old_name if name == change.field else name for name in required]
    elif isinstance(change, FieldRemoved):
        del properties[change.field]
        required = [name for name in required if name != change.field]
    else:
        assert form is not None
        properties[change.field] = property_schema(form, change.field)
        if isinstance(change, FieldAdded) and change.required:
            required.append(change.field)
    if required:
        component["required"] = required
    else:
        component.pop("required", None)


def rename_component(document: dict[str, Any], name: str, old_name: str) -> None:
    """Rename a component (or its ``-Input``/``-Output`` pair) and every ``$ref`` to it, in
    place; a title that is pydantic's own (the class name) follows."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    renames = {name + suffix: old_name + suffix for suffix in ("", *SPLIT_SUFFIX.values())}
    renamed: dict[str, Any] = {}
    for key, schema in schemas.items():
        if key in renames and isinstance(schema, dict) and schema.get("title") == name:
            schema["title"] = old_name
        renamed[renames.get(key, key)] = schema
    schemas.clear()  # in place: callers hold this mapping
    schemas.update(renamed)
    rewrite_refs(document, lambda ref: renames.get(ref, ref))
