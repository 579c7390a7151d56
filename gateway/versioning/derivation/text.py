"""Declarations written back as the Python text a user types.

Error lines name a declaration by its text (``schema("ItemOut").field("title").renamed("name")``)
so that the operator finds it in the module with a plain search, and ``versions derive`` writes
new declarations in the same form. Strings are double-quoted as the project's formatter writes
them; functions and types appear by name, since that is how the module refers to them.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from typing import Any

from gateway.versioning.derivation.json_types import Missing, Unchanged


def literal(value: object) -> str:
    """A Python literal for a JSON value or a name; strings in double quotes."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Missing | Unchanged):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, type):
        return value.__name__
    if callable(value):
        return function_name(value)
    return repr(value)


def given(value: object) -> str | None:
    """``literal(value)``, or ``None`` (an argument ``call`` leaves out) when value is ``None``."""
    return None if value is None else literal(value)


def function_name(function: Callable[..., Any]) -> str:
    """The name a module gives a function: ``price_forward``; a lambda shows as ``lambda``."""
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if not isinstance(name, str) or "<lambda>" in name:
        return "lambda"
    return name.rsplit("<locals>.", 1)[-1]


def annotation(hint: object) -> str:
    """A type annotation as written: ``int``, ``list[str]``, ``Annotated[Decimal, ...]``."""
    if typing.get_origin(hint) is typing.Annotated:
        return f"Annotated[{annotation(typing.get_args(hint)[0])}, ...]"
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    if hint is None:
        return "None"
    return str(hint).replace("typing.", "")


def call(name: str, *arguments: str, **keywords: str | None) -> str:
    """``name(a, b, key=value)``, leaving out the keywords whose text is ``None``."""
    parts = [*arguments, *(f"{key}={text}" for key, text in keywords.items() if text is not None)]
    return f"{name}({', '.join(parts)})"
