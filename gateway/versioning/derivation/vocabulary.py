"""What every declaration shares: its text, and the checks of its arguments.

A declaration checks its own arguments when it is built, before the gateway has a successor to
check it against, so a mistake such as ``endpoint("get", "items")`` fails at the line that wrote
it. The messages name the declaration and say what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.versioning.derivation.json_types import (
    JsonObject,
    OldRequest,
    OldResponse,
    Status,
    Unchanged,
)

METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
_PATH = re.compile(r"^/(?:[^{}?#\s]|\{[A-Za-z_][A-Za-z0-9_]*\})*$")

SchemaFunction = Callable[[JsonObject], JsonObject]
RequestFunction = Callable[[OldRequest], OldRequest]
ResponseFunction = Callable[[OldResponse], OldResponse]


def check_name(text: str, what: str, context: str) -> str:
    if not isinstance(text, str) or not text.strip() or text != text.strip():
        raise ValueError(f"{context}: {what} must be a non-empty name, got {text!r}")
    return text


def check_path(path: str, context: str) -> str:
    if not isinstance(path, str) or not _PATH.match(path):
        raise ValueError(
            f"{context}: {path!r} is not a path template: it starts with / and names its "
            "parameters as {name}, with no query string"
        )
    return path


def check_method(method: str, context: str) -> str:
    if not isinstance(method, str) or method.upper() not in METHODS:
        methods = ", ".join(sorted(METHODS))
        raise ValueError(f"{context}: {method!r} is not an HTTP method; use one of {methods}")
    return method.upper()


def check_status(value: int, context: str) -> Status:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ValueError(f"{context}: {value!r} is not an HTTP status code (100 to 599)")
    return value


def check_document_effect(document: object, context: str) -> None:
    if not (isinstance(document, Unchanged) or callable(document)):
        raise ValueError(
            f"{context}: document= must be a function of the schema, or unchanged when the "
            "converter truly changes nothing in the docs"
        )


class Declared:
    """What every declaration shares: its text is its ``str()``."""

    __slots__ = ()

    @property
    def text(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text
