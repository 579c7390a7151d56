"""Restoring a derived version's fields: renamed, removed, added with the snapshot's type, or
retyped with two converters.

A field gone from a component and one new in it are a rename when each is the other's only
match by JSON type and format (a ``date-time`` string is no title); the alternative, one removed
and the other added, is named too. A field only the snapshot has is added with its schema
written out, filled from a stub in responses unless the snapshot gives a default; one only the
successor has is removed, with its value from a stub when the successor requires it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.contracts.compare import Change, Detail
from gateway.versioning.derivation.checks import targets
from gateway.versioning.derivation.declarations import FieldRef, SchemaRef, SchemaRenamed
from gateway.versioning.derivation.field_schemas import pydantic_title
from gateway.versioning.derivation.refs import SPLIT_SUFFIX, referenced
from gateway.versioning.derivation.restoration import Context, Restoration, Restorer
from gateway.versioning.derivation.stubs import Stub

Pair = tuple[str | None, str | None]  # a component as the snapshot and the derived document name it
Signature = tuple[tuple[str, ...], object]  # a field's JSON types and format


class FieldRestorer(Restorer):
    """Field changes into field declarations; ``pair_fields`` first finds the renames."""

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.paired: dict[tuple[object, ...], Restoration] = {}  # a rename, once per field
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


def _type_key(schema: Mapping[str, Any]) -> object:
    return schema.get("type") if not isinstance(schema.get("type"), list) else tuple(schema["type"])
