"""The document schema of a field the old version types differently, or has on its own.

The old type is a Python annotation turned into JSON Schema by pydantic's ``TypeAdapter``, the
same machinery that wrote the successor's document, so the derived property reads as a
hand-written version's would: one form for requests (validation) and one for responses
(serialization), pydantic's title for the field, and a model as a ``$ref`` to its component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from gateway.versioning.derivation.json_types import JsonSchema
from gateway.versioning.derivation.refs import COMPONENT_PREFIX, SIDES, Side, ref_to

_MODES: Mapping[Side, Any] = {"request": "validation", "response": "serialization"}
_REF_TEMPLATE = COMPONENT_PREFIX + "{model}"


@dataclass(frozen=True)
class OldForms:
    """A field's schema in the old version by side, and the components its type brings along."""

    by_side: Mapping[Side, dict[str, Any]]
    components: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def differ(self) -> bool:
        return self.by_side["request"] != self.by_side["response"]


def pydantic_title(name: str) -> str:
    """The title pydantic gives a field: ``created_at`` -> ``Created At``."""
    return name.title().replace("_", " ")


def old_forms(hint: Any, schema: JsonSchema | None) -> OldForms:
    """The request and response forms of an old field, from its annotation or its schema."""
    if schema is not None:
        return OldForms({side: dict(schema) for side in SIDES})
    by_side: dict[Side, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    for side in SIDES:
        if isinstance(hint, type) and issubclass(hint, BaseModel):
            generated = hint.model_json_schema(mode=_MODES[side], ref_template=_REF_TEMPLATE)
            defs = generated.pop("$defs", {})
            by_side[side] = {"$ref": ref_to(hint.__name__)}
            defs[hint.__name__] = generated
        else:
            generated = TypeAdapter(hint).json_schema(mode=_MODES[side], ref_template=_REF_TEMPLATE)
            defs = generated.pop("$defs", {})
            by_side[side] = generated
        components.update(defs)
    return OldForms(by_side, components)


def property_schema(form: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A field's property as pydantic writes it: titled after the field, unless a bare ``$ref``."""
    schema = dict(form)
    if "$ref" not in schema:
        schema.setdefault("title", pydantic_title(name))
    return schema
