"""Components split into ``Name-Input`` and ``Name-Output`` when the old version's forms differ.

A declaration may give a field one schema in requests and another in responses (v1's price is
accepted as a number or a string and sent as a number). A component reached from both sides
then cannot stay one component: pydantic splits such a model, and every model reached from both
sides that contains it, into an input and an output form with the same title. The derived
document does the same, so it reads as a hand-written version's.
"""

from __future__ import annotations

import copy
from collections.abc import Set
from typing import Any

from gateway.versioning.derivation.refs import (
    SPLIT_SUFFIX,
    Side,
    operation_sides,
    operations,
    reached,
    referenced,
    rewrite_refs,
)


def split_components(document: dict[str, Any], differing: Set[str]) -> None:
    """Split (in place) the components in ``differing`` reached from both sides, and those
    reached from both sides that contain one of them; point every ``$ref`` at its side's form."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    sides = reached(document)
    both = {name for name, found in sides.items() if len(found) == 2 and name in schemas}
    split = set(differing) & both
    grown = True
    while grown:
        containers = {n for n in both - split if set(_closure(schemas, n)) & split}
        grown = bool(containers)
        split |= containers
    if not split:
        return

    def for_side(side: Side) -> Any:
        return lambda name: name + SPLIT_SUFFIX[side] if name in split else name

    for _, _, operation in operations(document):
        for side, part in operation_sides(operation):
            rewrite_refs(part, for_side(side))
    rebuilt: dict[str, Any] = {}
    for name, schema in schemas.items():
        if name in split:
            for side, suffix in SPLIT_SUFFIX.items():
                form = copy.deepcopy(schema)
                rewrite_refs(form, for_side(side))
                rebuilt[name + suffix] = form
        else:
            only = sides.get(name, set())
            if len(only) == 1:
                rewrite_refs(schema, for_side(next(iter(only))))
            rebuilt[name] = schema
    schemas.clear()  # in place: callers hold this mapping
    schemas.update(rebuilt)


def _closure(schemas: dict[str, Any], name: str) -> list[str]:
    """Every component ``name`` refers to, directly or through others."""
    seen: list[str] = []
    pending = list(referenced(schemas.get(name, {})))
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.append(current)
            pending.extend(referenced(schemas.get(current, {})))
    return seen
