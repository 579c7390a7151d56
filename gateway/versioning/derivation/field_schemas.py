"""The document schema of a field the old version types differently, or has on its own.

The old type is a Python annotation, documented by FastAPI itself as the field of a one-field
model (the machinery that wrote the successor's document), so the derived property reads as a
hand-written version's would, keyword for keyword and in the same order: one form for requests
(validation) and one for responses (serialization), pydantic's title for the field, and a model
as a ``$ref`` to its component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, create_model

from gateway.versioning.derivation.json_types import JsonSchema
from gateway.versioning.derivation.refs import (
    COMPONENT_PREFIX,
    SIDES,
    SPLIT_SUFFIX,
    Side,
    ref_to,
    referenced,
)

_MODES: Mapping[Side, Any] = {"request": "validation", "response": "serialization"}
_FIELD = "old_field"
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


def old_forms(hint: Any, schema: JsonSchema | None, name: str) -> OldForms:
    """The request and response forms of the old field ``name``, from its annotation or its
    schema."""
    if schema is not None:
        return OldForms({side: dict(schema) for side in SIDES})
    by_side: dict[Side, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    is_model = isinstance(hint, type) and issubclass(hint, BaseModel)
    schemas = {} if is_model else _as_fastapi_writes(hint)
    for side in SIDES:
        if is_model:
            generated = hint.model_json_schema(mode=_MODES[side], ref_template=_REF_TEMPLATE)
            defs = generated.pop("$defs", {})
            by_side[side] = {"$ref": ref_to(hint.__name__)}
            defs[hint.__name__] = generated
        else:
            generated, defs = _field_on(schemas, side)
            by_side[side] = {
                key: (pydantic_title(name) if key == "title" else value)
                for key, value in generated.items()
            }
        components.update(defs)
    return OldForms(by_side, components)


_HOLDER = "OldField"
_HOLDERS = {_HOLDER, *(_HOLDER + suffix for suffix in SPLIT_SUFFIX.values())}


def _as_fastapi_writes(hint: Any) -> dict[str, Any]:
    """The components of a document FastAPI writes for a one-field model holding ``hint``, as
    body and as response: both sides, keywords in the order a hand-written version's would be."""
    holder = create_model(_HOLDER, **{_FIELD: (hint, ...)})  # type: ignore[call-overload]

    async def endpoint(body: Any) -> Any:
        raise NotImplementedError  # never called: only documented

    endpoint.__annotations__ = {"body": holder, "return": holder}
    app = FastAPI()
    app.post("/", response_model=holder)(endpoint)
    schemas: dict[str, Any] = get_openapi(title="", version="", routes=app.routes)["components"][
        "schemas"
    ]
    return schemas


def _field_on(schemas: Mapping[str, Any], side: Side) -> tuple[dict[str, Any], dict[str, Any]]:
    """The held field on ``side`` (one form for both when FastAPI did not split the model), and
    the components it refers to."""
    mine = next(
        schemas[name] for name in (_HOLDER + SPLIT_SUFFIX[side], _HOLDER) if name in schemas
    )
    field = dict(mine["properties"][_FIELD])
    wanted: list[str] = []
    pending = list(referenced(field))
    while pending:
        current = pending.pop()
        if current not in wanted and current not in _HOLDERS:
            wanted.append(current)
            pending.extend(referenced(schemas[current]))
    return field, {name: schemas[name] for name in wanted}


def property_schema(form: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A field's property as pydantic writes it: titled after the field, unless a bare ``$ref``."""
    schema = dict(form)
    if "$ref" not in schema:
        schema.setdefault("title", pydantic_title(name))
    return schema
