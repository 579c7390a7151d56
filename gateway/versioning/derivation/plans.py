"""Per-operation plans: where in a request or response body the declarations apply.

At startup the successor's document is walked from each operation's request body and responses,
following ``$ref``s, and compiled into a tree that holds only the branches leading to a declared
schema: ``ItemPage`` -> ``data`` -> array items -> ``ItemOut``. At run time a body is then walked
along the plan alone, and an operation whose plans are all empty is forwarded without reading its
body. Plans are data; ``instances`` applies them to JSON values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from gateway.errors import DerivationError
from gateway.versioning.derivation.checks import old_location
from gateway.versioning.derivation.declarations import (
    Declaration,
    EndpointConverter,
    EndpointMoved,
    EndpointRemoved,
    FieldAdded,
    FieldChanged,
    FieldRemoved,
    FieldRenamed,
    SchemaConverter,
    StatusMapped,
)
from gateway.versioning.derivation.json_types import JsonObject
from gateway.versioning.derivation.refs import SPLIT_SUFFIX, component_name, operations, referenced
from gateway.versioning.derivation.vocabulary import RequestFunction, ResponseFunction

JSON_MEDIA = "application/json"
FieldDeclaration = FieldRenamed | FieldRemoved | FieldAdded | FieldChanged


@dataclass(eq=False)
class ObjectPlan:
    """One object: what its own declarations do, and the plans of the keys below it."""

    schema: str | None  # the component, for an object that has declarations of its own
    renames: dict[str, str] = field(default_factory=dict)  # new name -> old name
    removed: dict[str, FieldRemoved] = field(default_factory=dict)
    added: dict[str, FieldAdded] = field(default_factory=dict)
    changed: dict[str, FieldChanged] = field(default_factory=dict)
    requests: list[Callable[[JsonObject], JsonObject]] = field(default_factory=list)
    responses: list[Callable[[JsonObject], JsonObject]] = field(default_factory=list)
    closed: bool = False  # the schema forbids keys it does not list
    fields: frozenset[str] = frozenset()  # the successor's property names
    children: dict[str, Plan] = field(default_factory=dict)  # by the successor's names
    values: Plan | None = None  # of additionalProperties

    @property
    def declared(self) -> bool:
        return self.schema is not None

    @property
    def old_names(self) -> dict[str, str]:
        """Old name -> new name, for every key the old version knows."""
        known = {name: name for name in self.fields if name not in self.removed}
        for new, old in self.renames.items():
            del known[new]
            known[old] = new
        return known


@dataclass(frozen=True, eq=False)
class ArrayPlan:
    items: Plan


@dataclass(frozen=True, eq=False)
class ChoicePlan:
    """An ``anyOf``/``oneOf`` whose branches are told apart by the JSON type of the value."""

    object: ObjectPlan | None
    array: ArrayPlan | None


Plan = ObjectPlan | ArrayPlan | ChoicePlan


@dataclass(frozen=True)
class OperationPlan:
    """What one derived operation does, from the old version's request to its response."""

    method: str  # the successor's
    path: str
    old_method: str
    old_path: str
    name: str
    request: Plan | None  # old -> new
    responses: Mapping[int, Plan | None]  # by the successor's status, new -> old
    statuses: Mapping[int, int]  # the successor's status -> the old one
    request_converters: tuple[RequestFunction, ...] = ()
    response_converters: tuple[ResponseFunction, ...] = ()

    @property
    def moved(self) -> bool:
        return (self.method, self.path) != (self.old_method, self.old_path)

    @property
    def needs_principal(self) -> bool:
        """Whether moving a request forward may ask for the caller (``from_request=``)."""
        return bool(self.request_converters) or _asks_for_request(self.request, set())

    @property
    def reads_body(self) -> bool:
        return self.request is not None or bool(self.request_converters)

    @property
    def rewrites_responses(self) -> bool:
        """Whether any response may have to be held: otherwise it passes as it is sent."""
        return (
            any(plan is not None for plan in self.responses.values())
            or bool(self.statuses or self.response_converters)
            or self.request is not None
        )

    def holds(self, status: int) -> bool:
        """Whether a response of ``status`` from the successor must be read and moved back."""
        return (
            self.responses.get(status) is not None
            or bool(self.response_converters)
            or (status == 422 and self.request is not None)
        )


def declared_in(plan: Plan | None, seen: set[int] | None = None) -> Iterator[str]:
    """The components with declarations of their own that ``plan`` reaches."""
    seen = set() if seen is None else seen
    if plan is None or id(plan) in seen:
        return
    seen.add(id(plan))
    if isinstance(plan, ChoicePlan):
        yield from declared_in(plan.object, seen)
        yield from declared_in(plan.array, seen)
    elif isinstance(plan, ArrayPlan):
        yield from declared_in(plan.items, seen)
    else:
        if plan.schema is not None:
            yield plan.schema
        for child in [*plan.children.values(), plan.values]:
            yield from declared_in(child, seen)


def base_name(component: str) -> str:
    """The schema name a component answers to: ``Price`` for ``Price-Input``."""
    for suffix in SPLIT_SUFFIX.values():
        if component.endswith(suffix):
            return component[: -len(suffix)]
    return component


def _asks_for_request(plan: Plan | None, seen: set[int]) -> bool:
    if plan is None or id(plan) in seen:
        return False
    seen.add(id(plan))
    if isinstance(plan, ChoicePlan):
        return _asks_for_request(plan.object, seen) or _asks_for_request(plan.array, seen)
    if isinstance(plan, ArrayPlan):
        return _asks_for_request(plan.items, seen)
    below = [*plan.children.values(), plan.values]
    return any(r.from_request is not None for r in plan.removed.values()) or any(
        _asks_for_request(child, seen) for child in below
    )


def operation_plans(
    successor: Mapping[str, Any],
    changes: Sequence[Declaration],
    *,
    own: Sequence[tuple[str, str]] = (),
    source: str | None = None,
) -> list[OperationPlan]:
    """A plan for every successor operation the derived version serves, in document order:
    not removed, and not shadowed by an operation the module serves itself (``own``)."""
    compiler = _Compiler(successor, changes, source)
    removed = {(c.method, c.path) for c in changes if isinstance(c, EndpointRemoved)}
    plans = []
    for method, path, operation in operations(successor):
        if (method, path) in removed:
            continue
        mine = [c for c in changes if _names(c, method, path)]
        moved = [c for c in mine if isinstance(c, EndpointMoved)]
        old_method, old_path = old_location(moved[0]) if moved else (method, path)
        if (old_method, old_path) in own:
            continue
        where = f"{method} {path}"
        plans.append(
            OperationPlan(
                method=method,
                path=path,
                old_method=old_method,
                old_path=old_path,
                name=str(operation.get("operationId") or where),
                request=compiler.request(operation, where),
                responses=compiler.responses(operation, where),
                statuses={c.new: c.old for c in mine if isinstance(c, StatusMapped)},
                request_converters=tuple(
                    c.request for c in mine if isinstance(c, EndpointConverter) and c.request
                ),
                response_converters=tuple(
                    c.response for c in mine if isinstance(c, EndpointConverter) and c.response
                ),
            )
        )
    return plans


def _names(change: Declaration, method: str, path: str) -> bool:
    endpoint = (getattr(change, "method", None), getattr(change, "path", None))
    return not hasattr(change, "schema") and endpoint == (method, path)


class _Compiler:
    def __init__(
        self, successor: Mapping[str, Any], changes: Sequence[Declaration], source: str | None
    ) -> None:
        self.schemas: Mapping[str, Any] = successor.get("components", {}).get("schemas", {})
        self.source = source
        self.declared: dict[str, list[Declaration]] = {}
        for change in changes:
            schema = getattr(change, "schema", None)
            if isinstance(schema, str):
                for component in self.schemas:
                    if component == schema or base_name(component) == schema:
                        self.declared.setdefault(component, []).append(change)
        self.live = self._reaching_declarations()
        self.compiled: dict[str, ObjectPlan] = {}

    def _reaching_declarations(self) -> set[str]:
        """The components that are declared or lead to one that is, through ``$ref``s."""
        live = set(self.declared)
        grown = True
        while grown:
            grown = False
            for name, schema in self.schemas.items():
                if name not in live and any(ref in live for ref in referenced(schema)):
                    live.add(name)
                    grown = True
        return live

    def request(self, operation: Mapping[str, Any], where: str) -> Plan | None:
        content = operation.get("requestBody", {}).get("content", {})
        self._only_json(content, where, "request body is not JSON")
        return self.node(content.get(JSON_MEDIA, {}).get("schema"))

    def responses(self, operation: Mapping[str, Any], where: str) -> dict[int, Plan | None]:
        plans: dict[int, Plan | None] = {}
        for status, response in operation.get("responses", {}).items():
            content = response.get("content", {})
            self._only_json(content, where, "streams its response")
            if status.isdigit():
                plans[int(status)] = self.node(content.get(JSON_MEDIA, {}).get("schema"))
        return plans

    def _only_json(self, content: Mapping[str, Any], where: str, what: str) -> None:
        for media, described in content.items():
            if media == JSON_MEDIA:
                continue
            for name in referenced(described.get("schema", {})):
                if name in self.live:
                    self.fail_for(name, f"{where} {what}; no declaration can apply to it")

    def fail_for(self, component: str, problem: str) -> NoReturn:
        declaration = next(iter(self._declared_below(component)))
        line = f"{declaration.text}: {problem}"
        raise DerivationError(f"{self.source}: {line}" if self.source else line)

    def _declared_below(self, component: str) -> Iterator[Declaration]:
        seen: set[str] = set()
        pending = [component]
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            yield from self.declared.get(name, [])
            pending.extend(referenced(self.schemas.get(name, {})))

    def node(self, schema: object) -> Plan | None:
        if not isinstance(schema, Mapping):
            return None
        name = component_name(schema.get("$ref"))
        if name is not None:
            return self.component(name) if name in self.live else None
        for key in ("anyOf", "oneOf", "allOf"):
            if isinstance(schema.get(key), list):
                return self.choice([self.node(branch) for branch in schema[key]], schema)
        if "items" in schema:
            items = self.node(schema["items"])
            return ArrayPlan(items) if items is not None else None
        if "properties" in schema or isinstance(schema.get("additionalProperties"), Mapping):
            plan = ObjectPlan(schema=None)
            self.fill(plan, schema)
            return plan if plan.children or plan.values is not None else None
        return None

    def choice(self, branches: list[Plan | None], schema: Mapping[str, Any]) -> Plan | None:
        objects = [b for b in branches if isinstance(b, ObjectPlan)]
        arrays = [b for b in branches if isinstance(b, ArrayPlan)]
        nested = [b for b in branches if isinstance(b, ChoicePlan)]
        objects += [b.object for b in nested if b.object is not None]
        arrays += [b.array for b in nested if b.array is not None]
        if len(objects) > 1 or len(arrays) > 1:
            names = [name for name in referenced(schema) if name in self.live]
            self.fail_for(
                names[0], "it is reached through a choice of schemas it cannot tell apart"
            )
        if not objects and not arrays:
            return None
        if not arrays:
            return objects[0]
        if not objects:
            return arrays[0]
        return ChoicePlan(objects[0], arrays[0])

    def component(self, name: str) -> ObjectPlan:
        plan = self.compiled.get(name)
        if plan is not None:
            return plan  # also the placeholder of a component being compiled: recursion
        schema = self.schemas.get(name, {})
        declarations = self.declared.get(name, [])
        plan = self.compiled[name] = ObjectPlan(schema=name if declarations else None)
        for change in declarations:
            if isinstance(change, FieldRenamed):
                plan.renames[change.field] = change.old_name
            elif isinstance(change, FieldRemoved):
                plan.removed[change.field] = change
            elif isinstance(change, FieldAdded):
                plan.added[change.field] = change
            elif isinstance(change, FieldChanged):
                plan.changed[change.field] = change
            elif isinstance(change, SchemaConverter):
                if change.request is not None:
                    plan.requests.append(change.request)
                if change.response is not None:
                    plan.responses.append(change.response)
        self.fill(plan, schema)
        return plan

    def fill(self, plan: ObjectPlan, schema: Mapping[str, Any]) -> None:
        properties: Mapping[str, Any] = schema.get("properties", {})
        plan.fields = frozenset(properties)
        plan.closed = schema.get("additionalProperties") is False
        for key, subschema in properties.items():
            if key in plan.changed or key in plan.removed:
                continue  # the converters see the whole value; a removed one is never sent
            child = self.node(subschema)
            if child is not None:
                plan.children[key] = child
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            plan.values = self.node(extra)
