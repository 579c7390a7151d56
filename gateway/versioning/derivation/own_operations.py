"""The derived module's own operations, merged into the derived document.

An operation the old version has on its own (v1's skip/limit list) is an ordinary route on the
derived app. It wins over a derived operation at the same method and path, so its fragment
replaces that operation's. It speaks the old version's terms and may share components with the
derived ones (v1's own list returns the same ``ItemOut``); a shared name must describe the same
schema, or one name would mean two things in one document.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from gateway.errors import DerivationError
from gateway.versioning.derivation.refs import operation_sides, operations, referenced


def merge_own(document: dict[str, Any], own: Mapping[str, Any], source: str | None) -> None:
    """Put ``own``'s operations and schema components into ``document`` (in place)."""
    paths: dict[str, Any] = document.setdefault("paths", {})
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    own_schemas: Mapping[str, Any] = own.get("components", {}).get("schemas", {})
    for method, path, operation in operations(own):
        paths.setdefault(path, {})[method.lower()] = copy.deepcopy(operation)
        for name in _reached_from(operation, own_schemas):
            mine = own_schemas[name]
            if name not in schemas:
                schemas[name] = copy.deepcopy(mine)
            elif schemas[name] != mine:
                difference = describe_difference(mine, schemas[name])
                line = f"{method} {path} describes {name} unlike the derived {name}: {difference}"
                raise DerivationError(f"{source}: {line}" if source else line)


def _reached_from(operation: Mapping[str, Any], schemas: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    pending = [name for _, part in operation_sides(operation) for name in referenced(part)]
    while pending:
        name = pending.pop(0)
        if name not in found and name in schemas:
            found.append(name)
            pending.extend(referenced(schemas[name]))
    return found


def describe_difference(here: Mapping[str, Any], there: Mapping[str, Any]) -> str:
    """The first difference between two schemas, in words: which field, and how."""
    mine, theirs = here.get("properties", {}), there.get("properties", {})
    if (only_here := [n for n in mine if n not in theirs]) or [n for n in theirs if n not in mine]:
        only_there = [n for n in theirs if n not in mine]
        parts = [f"{', '.join(only_here)} only here"] if only_here else []
        parts += [f"{', '.join(only_there)} only there"] if only_there else []
        return "; ".join(parts)
    for name, schema in mine.items():
        if schema != theirs[name]:
            return f"{name} is {_kind(schema)} here, {_kind(theirs[name])} there"
    return "their keywords differ (required, title or constraints)"


def _kind(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "type" in schema:
        return str(schema["type"])
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return " | ".join(_kind(variant) for variant in variants)
    return "another schema"
