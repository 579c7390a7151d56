"""The vocabulary of a derived version: what the successor's schemas and endpoints were before.

Declarations name the successor's schemas and endpoints as its OpenAPI document names them and
say what they were in the derived version, so a module reads as history::

    schema("ItemOut").field("title").renamed("name")
    endpoint("PATCH", "/items/{item_id}").removed()

They are frozen data: nothing runs when one is built except the checks of its own arguments, so
the same list can change the successor's document and, at run time, its messages. Each renders
itself (``str(declaration)``, ``declaration.text``) as the text a user writes.
"""

from __future__ import annotations

from gateway.versioning.derivation.endpoint_changes import (
    EndpointConverter,
    EndpointMoved,
    EndpointRef,
    EndpointRemoved,
    OperationRenamed,
    StatusMapped,
)
from gateway.versioning.derivation.json_types import MISSING, Missing, Unchanged, unchanged
from gateway.versioning.derivation.schema_changes import (
    FieldAdded,
    FieldChanged,
    FieldRef,
    FieldRemoved,
    FieldRenamed,
    SchemaConverter,
    SchemaRef,
    SchemaRenamed,
)

__all__ = [
    "MISSING",
    "Declaration",
    "EndpointConverter",
    "EndpointMoved",
    "EndpointRef",
    "EndpointRemoved",
    "FieldAdded",
    "FieldChanged",
    "FieldRef",
    "FieldRemoved",
    "FieldRenamed",
    "Missing",
    "OperationRenamed",
    "SchemaConverter",
    "SchemaRef",
    "SchemaRenamed",
    "StatusMapped",
    "Unchanged",
    "endpoint",
    "schema",
    "unchanged",
]

SchemaDeclaration = (
    SchemaRenamed | FieldRenamed | FieldRemoved | FieldAdded | FieldChanged | SchemaConverter
)
EndpointDeclaration = (
    EndpointRemoved | EndpointMoved | OperationRenamed | StatusMapped | EndpointConverter
)
Declaration = SchemaDeclaration | EndpointDeclaration


def schema(name: str, /) -> SchemaRef:
    """The successor's schema ``name``, as its OpenAPI document's components name it."""
    return SchemaRef(name)


def endpoint(method: str, path: str, /) -> EndpointRef:
    """The successor's operation ``method path``, as its OpenAPI document's paths name it."""
    return EndpointRef(method, path)
