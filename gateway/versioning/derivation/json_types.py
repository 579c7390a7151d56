"""The values declarations speak of: JSON as the wire carries it, and the old version's messages.

Converters act on JSON values, not on typed models, because that is what an old client sends and
reads; typing them precisely keeps a converter honest about what it may receive. ``MISSING`` and
``unchanged`` are singletons of their own types, so that "no value" and "no document effect" can
never be confused with ``None``, a legitimate JSON value and a forgotten argument respectively.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject = dict[str, JsonValue]
JsonSchema = Mapping[str, Any]
Status = int
Headers = Sequence[tuple[str, str]]


class Missing(enum.Enum):
    """The type of ``MISSING``: a body or default that is absent, as opposed to ``null``."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing.MISSING


class Unchanged(enum.Enum):
    """The type of ``unchanged``: a converter's document effect when it truly has none."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "unchanged"


unchanged: Final = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class OldRequest:
    """A request as the old version's client sent it; converters return a ``replace()`` of it."""

    method: str
    path: str
    path_params: Mapping[str, str]
    query: Headers
    headers: Headers
    principal: str | None
    body: JsonValue | Missing


@dataclass(frozen=True, slots=True)
class OldResponse:
    """A response on its way back to the old version's client."""

    status: Status
    headers: Headers
    body: JsonValue | Missing
