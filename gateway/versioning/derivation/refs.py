"""Where the successor's schemas appear in its document, found by following ``$ref``s.

A declaration names a component; it applies wherever that component is reached from an
operation, directly, nested in another component, as array items or inside a page such as
``ItemPage.data``. What matters for the document is from which side each component is reached:
requests are described by validation schemas and responses by serialization schemas, which differ
for some types (a decimal is accepted as a number or a string but sent as one of them), so a
component reached from both sides may have to be split as pydantic does (``Name-Input``,
``Name-Output``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

COMPONENT_PREFIX = "#/components/schemas/"
OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Side = Literal["request", "response"]
SIDES: tuple[Side, ...] = ("request", "response")
SPLIT_SUFFIX: Mapping[Side, str] = {"request": "-Input", "response": "-Output"}


def component_name(ref: object) -> str | None:
    """The component a ``$ref`` names, or ``None`` for any other reference."""
    if isinstance(ref, str) and ref.startswith(COMPONENT_PREFIX):
        return ref[len(COMPONENT_PREFIX) :].replace("~1", "/").replace("~0", "~")
    return None


def ref_to(name: str) -> str:
    return COMPONENT_PREFIX + name.replace("~", "~0").replace("/", "~1")


def referenced(node: object) -> Iterator[str]:
    """Every component a JSON node refers to directly, in document order."""
    if isinstance(node, Mapping):
        name = component_name(node.get("$ref"))
        if name is not None:
            yield name
        for value in node.values():
            yield from referenced(value)
    elif isinstance(node, list):
        for item in node:
            yield from referenced(item)


def operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(METHOD, path, operation)`` for every operation, in document order."""
    for path, item in document.get("paths", {}).items():
        for method in OPERATION_METHODS:
            if isinstance(item.get(method), dict):
                yield method.upper(), path, item[method]


def operation_sides(operation: Mapping[str, Any]) -> Iterator[tuple[Side, object]]:
    """The parts of an operation by who writes them: parameters and body, then responses."""
    yield "request", operation.get("parameters", [])
    yield "request", operation.get("requestBody", {})
    yield "response", operation.get("responses", {})


def reached(document: Mapping[str, Any]) -> dict[str, set[Side]]:
    """For every component reached from an operation, the sides it is reached from."""
    schemas = document.get("components", {}).get("schemas", {})
    found: dict[str, set[Side]] = {}
    for _, _, operation in operations(document):
        for side, part in operation_sides(operation):
            pending = list(referenced(part))
            while pending:
                name = pending.pop()
                if side in found.setdefault(name, set()):
                    continue
                found[name].add(side)
                pending.extend(referenced(schemas.get(name, {})))
    return found


def rewrite_refs(node: object, rename: Callable[[str], str]) -> None:
    """Point every component ``$ref`` in ``node`` (changed in place) to ``rename(name)``."""
    if isinstance(node, dict):
        name = component_name(node.get("$ref"))
        if name is not None:
            node["$ref"] = ref_to(rename(name))
        for value in node.values():
            rewrite_refs(value, rename)
    elif isinstance(node, list):
        for item in node:
            rewrite_refs(item, rename)


def prune(document: dict[str, Any]) -> None:
    """Drop the schema components no operation reaches any more (in place)."""
    schemas = document.get("components", {}).get("schemas")
    if schemas is None:
        return
    alive = reached(document)
    for name in [name for name in schemas if name not in alive]:
        del schemas[name]
