"""A successor's 422 moved back: each error's ``loc`` in the old version's names, its ``input`` the
old request's.

The successor validated the forwarded body, so its errors name the successor's fields. The same
plan that moved the body forward maps each location back: a renamed key to its old name, a
quarantined key to the name the client sent, and anything under a field of another type to that
field (``["body", "price", "amount"]`` is ``["body", "price"]`` when v1's price was a number).
The ``input`` is then read from the old body at the old location (its parent for ``missing``,
which pydantic reports with the object that lacks the key), so the error is the one a hand-written
old version would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.versioning.derivation.instances import QUARANTINE
from gateway.versioning.derivation.json_types import JsonValue
from gateway.versioning.derivation.plans import ArrayPlan, ChoicePlan, ObjectPlan, Plan

_ABSENT = object()


def errors_back(plan: Plan, detail: Sequence[Any], old_body: JsonValue) -> list[JsonValue]:
    """The errors of a 422's ``detail`` list in the old version's terms; repeated ones (two
    errors under one retyped field) are reported once, as the old field had one error."""
    moved: list[Any] = []
    seen: set[tuple[str, tuple[object, ...]]] = set()
    for error in detail:
        loc = error.get("loc") if isinstance(error, dict) else None
        if not isinstance(loc, list | tuple) or not loc or loc[0] != "body":
            moved.append(error)
            continue
        old_loc, truncated = _old_location(plan, list(loc[1:]))
        key = (str(error.get("type")), tuple(old_loc))
        if truncated and key in seen:
            continue
        seen.add(key)
        error = {**error, "loc": ["body", *old_loc]}
        where = old_loc[:-1] if error.get("type") == "missing" else old_loc
        found = _at(old_body, where)
        if found is not _ABSENT and "input" in error:
            error["input"] = found
        moved.append(error)
    return moved


def _old_location(plan: Plan | None, loc: list[Any]) -> tuple[list[Any], bool]:
    """The old location of a successor's ``loc``, and whether it was cut at a retyped field."""
    old: list[Any] = []
    node = plan
    for index, step in enumerate(loc):
        if isinstance(node, ChoicePlan):
            node = node.array if isinstance(step, int) else node.object
        if isinstance(node, ObjectPlan) and isinstance(step, str):
            if step.startswith(QUARANTINE):
                old.append(step[len(QUARANTINE) :])
                node = None
                continue
            old.append(node.renames.get(step, step))
            if step in node.changed:
                return old, index < len(loc) - 1
            node = node.children.get(step, node.values if step not in node.fields else None)
        elif isinstance(node, ArrayPlan) and isinstance(step, int):
            old.append(step)
            node = node.items
        else:
            old.append(step)
            node = None
    return old, False


def _at(body: JsonValue, loc: Sequence[Any]) -> Any:
    node: Any = body
    for step in loc:
        if isinstance(node, dict) and isinstance(step, str):
            if step not in node:
                return _ABSENT
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int):
            if not 0 <= step < len(node):
                return _ABSENT
            node = node[step]
        else:
            return _ABSENT
    return node
