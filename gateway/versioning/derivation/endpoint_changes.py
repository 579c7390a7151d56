"""Declarations about the successor's endpoints: removed, moved, renamed, a status mapped.

An endpoint is named by its method and path template as the successor's document has them
(``endpoint("PATCH", "/items/{item_id}")``); the declaration says what the old version had.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.versioning.derivation.json_types import JsonObject, Status, Unchanged
from gateway.versioning.derivation.text import call, given, literal
from gateway.versioning.derivation.vocabulary import (
    Declared,
    RequestFunction,
    ResponseFunction,
    check_document_effect,
    check_method,
    check_name,
    check_path,
    check_status,
)

_PARAMETER = re.compile(r"\{([^}]+)\}")


def path_parameters(path: str) -> frozenset[str]:
    """The names a path template binds: ``{item_id}`` in ``/items/{item_id}``."""
    return frozenset(_PARAMETER.findall(path))


@dataclass(frozen=True, slots=True)
class EndpointRef:
    """An operation of the successor, by method and path; the start of an endpoint declaration."""

    method: str
    path: str

    def __post_init__(self) -> None:
        context = f"endpoint({self.method!r}, {self.path!r})"
        object.__setattr__(self, "method", check_method(self.method, context))
        check_path(self.path, context)

    @property
    def text(self) -> str:
        return f"endpoint({literal(self.method)}, {literal(self.path)})"

    def removed(self) -> EndpointRemoved:
        return EndpointRemoved(self.method, self.path)

    def moved(self, *, path: str | None = None, method: str | None = None) -> EndpointMoved:
        context = f"{self.text}.moved()"
        if path is None and method is None:
            raise ValueError(f"{context}: give the old path=, the old method= or both")
        old_path = self.path if path is None else check_path(path, context)
        old_method = self.method if method is None else check_method(method, context)
        if (old_method, old_path) == (self.method, self.path):
            raise ValueError(f"{context}: the old method and path are the current ones")
        if path_parameters(old_path) != path_parameters(self.path):
            raise ValueError(f"{context}: {old_path} must bind the same parameters as {self.path}")
        return EndpointMoved(self.method, self.path, path, None if method is None else old_method)

    def named(self, old_operation_id: str, /) -> OperationRenamed:
        context = f"{self.text}.named({old_operation_id!r})"
        check_name(old_operation_id, "the old operationId", context)
        if any(c.isspace() for c in old_operation_id):
            raise ValueError(f"{context}: an operationId has no spaces")
        return OperationRenamed(self.method, self.path, old_operation_id)

    def status(self, *, old: Status, new: Status) -> StatusMapped:
        context = f"{self.text}.status(old={old!r}, new={new!r})"
        check_status(old, context)
        check_status(new, context)
        if old == new:
            raise ValueError(f"{context}: the old status is the same as the new one")
        return StatusMapped(self.method, self.path, old, new)

    def converter(
        self,
        *,
        request: RequestFunction | None = None,
        response: ResponseFunction | None = None,
        document: Callable[[JsonObject], JsonObject] | Unchanged,
    ) -> EndpointConverter:
        context = f"{self.text}.converter()"
        if request is None and response is None:
            raise ValueError(f"{context}: give request=, response= or both")
        check_document_effect(document, context)
        return EndpointConverter(self.method, self.path, request, response, document)


@dataclass(frozen=True, slots=True)
class EndpointRemoved(Declared):
    """The old version has no such operation: it answers as for any unknown one."""

    method: str
    path: str

    @property
    def text(self) -> str:
        return f"{EndpointRef(self.method, self.path).text}.removed()"


@dataclass(frozen=True, slots=True)
class EndpointMoved(Declared):
    """The old version serves the operation at ``old_path`` or with ``old_method`` (or both)."""

    method: str
    path: str
    old_path: str | None
    old_method: str | None

    @property
    def text(self) -> str:
        moved = call(
            "moved",
            path=given(self.old_path),
            method=given(self.old_method),
        )
        return f"{EndpointRef(self.method, self.path).text}.{moved}"


@dataclass(frozen=True, slots=True)
class OperationRenamed(Declared):
    """The operation's ``operationId`` was ``old_operation_id`` (SDKs name methods after it)."""

    method: str
    path: str
    old_operation_id: str

    @property
    def text(self) -> str:
        named = f"named({literal(self.old_operation_id)})"
        return f"{EndpointRef(self.method, self.path).text}.{named}"


@dataclass(frozen=True, slots=True)
class StatusMapped(Declared):
    """The successor answers ``new`` where the old version answered ``old``."""

    method: str
    path: str
    old: Status
    new: Status

    @property
    def text(self) -> str:
        return f"{EndpointRef(self.method, self.path).text}.status(old={self.old}, new={self.new})"


@dataclass(frozen=True, slots=True)
class EndpointConverter(Declared):
    """What no declaration says about an operation, with its effect on the operation's document."""

    method: str
    path: str
    request: RequestFunction | None
    response: ResponseFunction | None
    document: Callable[[JsonObject], JsonObject] | Unchanged

    @property
    def text(self) -> str:
        converter = call(
            "converter",
            request=given(self.request),
            response=given(self.response),
            document=literal(self.document),
        )
        return f"{EndpointRef(self.method, self.path).text}.{converter}"
