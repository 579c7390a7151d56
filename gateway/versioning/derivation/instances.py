"""A plan applied to one JSON value: an old request body moved forward, a response moved back.

Forward, a key the old schema does not list is not dropped from a closed schema: it goes on
under a quarantine name no successor can know, so the successor's own validation reports it as
``extra_forbidden`` in pydantic's order, and the name is restored in the error on the way back
(``validation_errors``). Keys keep their order, so bodies read as a hand-written version's.
Values that are not the shape a plan expects (``[]`` where an object is due) pass unchanged, for
the successor to report at the same place.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from gateway.versioning.derivation.json_types import MISSING, JsonValue, OldRequest
from gateway.versioning.derivation.plans import ArrayPlan, ChoicePlan, ObjectPlan, Plan

QUARANTINE = "\x00old:"

OldRequestSource = Callable[[], OldRequest]


def forward(plan: Plan, value: JsonValue, request: OldRequestSource) -> JsonValue:
    """``value`` in the old version's terms, moved to the successor's."""
    if isinstance(plan, ChoicePlan):
        chosen = plan.object if isinstance(value, dict) else plan.array
        return forward(chosen, value, request) if chosen is not None else value
    if isinstance(plan, ArrayPlan):
        if not isinstance(value, list):
            return value
        return [forward(plan.items, item, request) for item in value]
    return _object_forward(plan, value, request)


def back(plan: Plan, value: JsonValue) -> JsonValue:
    """``value`` in the successor's terms, moved back to the old version's."""
    if isinstance(plan, ChoicePlan):
        chosen = plan.object if isinstance(value, dict) else plan.array
        return back(chosen, value) if chosen is not None else value
    if isinstance(plan, ArrayPlan):
        if not isinstance(value, list):
            return value
        return [back(plan.items, item) for item in value]
    return _object_back(plan, value)


def _object_forward(plan: ObjectPlan, value: JsonValue, request: OldRequestSource) -> JsonValue:
    if not isinstance(value, dict):
        return value
    for convert in plan.requests:
        value = convert(value)
    known = plan.old_names if plan.declared else None
    moved: dict[str, JsonValue] = {}
    kept_aside: list[tuple[Callable[[JsonValue, dict[str, JsonValue]], None], JsonValue]] = []
    for key, item in value.items():
        new = key if known is None else known.get(key)
        if known is None and plan.closed and key.startswith(QUARANTINE):
            new = QUARANTINE + key  # sent by the client: restored as sent on the way back
        elif new is None:
            added = plan.added.get(key)
            if added is not None:
                if callable(added.on_request):
                    kept_aside.append((added.on_request, item))
                continue
            if plan.closed:
                new = QUARANTINE + key
            elif key in plan.fields:
                continue  # a name of the successor's that the old version ignored
            else:
                new = key
        changed = plan.changed.get(new)
        if changed is not None:
            item = _forwarded(changed.forward, item)
        elif (child := plan.children.get(new)) is not None:
            item = forward(child, item, request)
        elif plan.values is not None and new not in plan.fields:
            item = forward(plan.values, item, request)
        moved[new] = item
    for on_request, item in kept_aside:
        on_request(item, moved)
    for name, removed in plan.removed.items():
        if name in moved:
            continue
        if removed.from_request is not None:
            moved[name] = removed.from_request(request())
        elif removed.default is not MISSING:
            moved[name] = copy.deepcopy(removed.default)
    return moved


def _forwarded(convert: Callable[[JsonValue], JsonValue], value: JsonValue) -> JsonValue:
    """``convert(value)``; a value it cannot take goes on as it is, for the successor to refuse
    with a 422 at the old field, as the old version's validation would (never a 500)."""
    try:
        return convert(value)
    except Exception:
        return value


def _object_back(plan: ObjectPlan, value: JsonValue) -> JsonValue:
    if not isinstance(value, dict):
        return value
    moved: dict[str, JsonValue] = {}
    for key, item in value.items():
        if key in plan.removed:
            continue
        changed = plan.changed.get(key)
        if changed is not None:
            item = changed.back(item)
        elif (child := plan.children.get(key)) is not None:
            item = back(child, item)
        elif plan.values is not None and key not in plan.fields:
            item = back(plan.values, item)
        moved[plan.renames.get(key, key)] = item
    for name, added in plan.added.items():
        moved[name] = added.fill(value) if callable(added.fill) else copy.deepcopy(added.fill)
    for convert in plan.responses:
        moved = convert(moved)
    return moved
