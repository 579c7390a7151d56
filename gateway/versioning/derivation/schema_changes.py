"""Declarations about the successor's schemas: a component renamed, its fields changed.

A schema is named as the successor's OpenAPI document names its component (``ItemOut``; a
``Price-Input``/``Price-Output`` pair also answers to ``Price``), so a declaration applies wherever
that schema appears, not only where a route names a class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gateway.versioning.derivation.json_types import (
    MISSING,
    JsonObject,
    JsonSchema,
    JsonValue,
    Missing,
    OldRequest,
    Unchanged,
)
from gateway.versioning.derivation.text import annotation, call, given, literal
from gateway.versioning.derivation.vocabulary import (
    Declared,
    SchemaFunction,
    check_document_effect,
    check_name,
)


@dataclass(frozen=True, slots=True)
class SchemaRenamed(Declared):
    """The component was called ``old_name``: its key, its title and every ``$ref`` to it."""

    schema: str
    old_name: str

    @property
    def text(self) -> str:
        return f"{SchemaRef(self.schema).text}.renamed({literal(self.old_name)})"


@dataclass(frozen=True, slots=True)
class FieldRenamed(Declared):
    """The field was called ``old_name``; its key keeps its position."""

    schema: str
    field: str
    old_name: str

    @property
    def text(self) -> str:
        return f"{FieldRef(self.schema, self.field).text}.renamed({literal(self.old_name)})"


@dataclass(frozen=True, slots=True)
class FieldRemoved(Declared):
    """The old version has no such field; a request gets ``default`` or ``from_request``."""

    schema: str
    field: str
    default: JsonValue | Missing = MISSING
    from_request: Callable[[OldRequest], JsonValue] | None = None

    @property
    def text(self) -> str:
        default = None if self.default is MISSING else literal(self.default)
        source = given(self.from_request)
        removed = call("removed", default=default, from_request=source)
        return f"{FieldRef(self.schema, self.field).text}.{removed}"


@dataclass(frozen=True, slots=True)
class FieldAdded(Declared):
    """A field only the old version has: filled in responses, dropped or moved in requests."""

    schema: str
    field: str
    old_type: Any
    field_schema: JsonSchema | None
    fill: JsonValue | Callable[[JsonObject], JsonValue]
    on_request: Literal["drop"] | Callable[[JsonValue, JsonObject], None] = "drop"
    required: bool = False

    @property
    def text(self) -> str:
        added = call(
            "added",
            *([annotation(self.old_type)] if self.field_schema is None else []),
            schema=given(self.field_schema),
            fill=literal(self.fill),
            on_request=None if self.on_request == "drop" else literal(self.on_request),
            required="True" if self.required else None,
        )
        return f"{FieldRef(self.schema, self.field).text}.{added}"


@dataclass(frozen=True, slots=True)
class FieldChanged(Declared):
    """The field had another type: ``old`` (an annotation) or ``old_schema`` describes it."""

    schema: str
    field: str
    old: Any
    old_schema: JsonSchema | None
    forward: Callable[[JsonValue], JsonValue]
    back: Callable[[JsonValue], JsonValue]
    check: bool = False

    @property
    def text(self) -> str:
        changed = call(
            "changed",
            *([annotation(self.old)] if self.old_schema is None else []),
            old_schema=given(self.old_schema),
            forward=literal(self.forward),
            back=literal(self.back),
            check="True" if self.check else None,
        )
        return f"{FieldRef(self.schema, self.field).text}.{changed}"


@dataclass(frozen=True, slots=True)
class SchemaConverter(Declared):
    """What no declaration says, as functions of the JSON object, with the document's effect."""

    schema: str
    request: SchemaFunction | None
    response: SchemaFunction | None
    document: Callable[[JsonSchema], JsonSchema] | Unchanged

    @property
    def text(self) -> str:
        converter = call(
            "converter",
            request=given(self.request),
            response=given(self.response),
            document=literal(self.document),
        )
        return f"{SchemaRef(self.schema).text}.{converter}"


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """A schema of the successor, by its component name; the start of a schema declaration."""

    name: str

    def __post_init__(self) -> None:
        check_name(self.name, "the schema", f"schema({self.name!r})")

    @property
    def text(self) -> str:
        return f"schema({literal(self.name)})"

    def renamed(self, old_name: str, /) -> SchemaRenamed:
        context = f"{self.text}.renamed({old_name!r})"
        if check_name(old_name, "the old name", context) == self.name:
            raise ValueError(f"{context}: the old name is the same as the new one")
        return SchemaRenamed(self.name, old_name)

    def field(self, name: str, /) -> FieldRef:
        return FieldRef(self.name, name)

    def converter(
        self,
        *,
        request: SchemaFunction | None = None,
        response: SchemaFunction | None = None,
        document: Callable[[JsonSchema], JsonSchema] | Unchanged,
    ) -> SchemaConverter:
        context = f"{self.text}.converter()"
        if request is None and response is None:
            raise ValueError(f"{context}: give request=, response= or both")
        check_document_effect(document, context)
        return SchemaConverter(self.name, request, response, document)


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field of the successor's schema, or (``added``) one that only the old version has."""

    schema: str
    name: str

    def __post_init__(self) -> None:
        check_name(self.name, "the field", f"{SchemaRef(self.schema).text}.field({self.name!r})")

    @property
    def text(self) -> str:
        return f"{SchemaRef(self.schema).text}.field({literal(self.name)})"

    def renamed(self, old_name: str, /) -> FieldRenamed:
        context = f"{self.text}.renamed({old_name!r})"
        if check_name(old_name, "the old name", context) == self.name:
            raise ValueError(f"{context}: the old name is the same as the new one")
        return FieldRenamed(self.schema, self.name, old_name)

    def removed(
        self,
        *,
        default: JsonValue | Missing = MISSING,
        from_request: Callable[[OldRequest], JsonValue] | None = None,
    ) -> FieldRemoved:
        if default is not MISSING and from_request is not None:
            raise ValueError(f"{self.text}.removed(): give default= or from_request=, not both")
        return FieldRemoved(self.schema, self.name, default, from_request)

    def added(
        self,
        old_type: Any = None,
        *,
        schema: JsonSchema | None = None,
        fill: JsonValue | Callable[[JsonObject], JsonValue],
        on_request: Literal["drop"] | Callable[[JsonValue, JsonObject], None] = "drop",
        required: bool = False,
    ) -> FieldAdded:
        context = f"{self.text}.added()"
        if (old_type is None) == (schema is None):
            raise ValueError(f"{context}: give the old type or schema=, exactly one of them")
        if on_request != "drop" and not callable(on_request):
            raise ValueError(f'{context}: on_request= is "drop" or a function')
        return FieldAdded(self.schema, self.name, old_type, schema, fill, on_request, required)

    def changed(
        self,
        old: Any = None,
        *,
        old_schema: JsonSchema | None = None,
        forward: Callable[[JsonValue], JsonValue],
        back: Callable[[JsonValue], JsonValue],
        check: bool = False,
    ) -> FieldChanged:
        context = f"{self.text}.changed()"
        if (old is None) == (old_schema is None):
            raise ValueError(f"{context}: give the old type or old_schema=, exactly one of them")
        if not callable(forward) or not callable(back):
            raise ValueError(f"{context}: forward= and back= must be functions")
        if check and old is None:
            raise ValueError(f"{context}: check=True validates with the old type; give it")
        return FieldChanged(self.schema, self.name, old, old_schema, forward, back, check)
