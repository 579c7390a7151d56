"""Breaking changes between two OpenAPI documents: what a released version promised its clients.

No good, maintained Python library does OpenAPI breaking-change detection (oasdiff, the reference
tool, is written in Go), so this is a small hand-written comparison of what clients rely on, for
OpenAPI 3.0 and 3.1 documents as FastAPI writes them:

- paths and operations: a removed one breaks clients, a new one does not;
- operationIds: SDK generators name their methods after them, so a changed or removed one breaks;
- what clients send (parameters, request bodies): the new document must accept everything the old
  one did, so a new required input, a narrower type or a removed enum value breaks;
- what clients read (2xx response bodies): the new document must send only what old clients
  understand, so a removed field or a wider type (``str`` -> ``str | None``) breaks;
- security: another scheme or more scopes on an operation breaks; fewer, or none, does not.

``$ref``s to ``#/components/...`` are resolved, nested objects and arrays followed, recursive
schemas visited once per path. Not compared: validation constraints (lengths, patterns, ranges),
formats, defaults, descriptions and examples.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.contracts.changes import Change, Detail, DetailKind, Direction

__all__ = ["Change", "Detail", "DocumentError", "changelog", "compare"]

Document = Mapping[str, Any]
Schema = Mapping[str, Any]
# A security requirement: the schemes it needs, each with its scopes; any one of a list suffices.
Requirement = frozenset[tuple[str, frozenset[str]]]
# The pairs of named (``$ref``) schemas on the way to the one being compared.
Seen = frozenset[tuple[str | None, str | None]]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_REF_CHAIN = 32


class DocumentError(ValueError):
    """A document this module cannot follow, such as a ``$ref`` to another file."""


def compare(
    old: Document, new: Document, *, scheme_aliases: Mapping[str, str] | None = None
) -> list[Change]:
    """Every change from ``old`` to ``new``, in document order.

    ``scheme_aliases`` maps security scheme names of ``old`` to the names of the same schemes in
    ``new``: each gateway version names its own scheme (``apiv<N>_oauth2``), and that rename alone
    changes nothing for a client.
    """
    return list(_Comparison(old, new, scheme_aliases or {}).paths())


def changelog(title: str, changes: Sequence[Change]) -> str:
    """``changes`` as a Markdown changelog: breaking and non-breaking changes under ``title``."""
    lines = [f"# {title}", ""]
    for heading, breaking in (("Breaking changes", True), ("Non-breaking changes", False)):
        items = [f"- `{c.where}`: {c.what}" for c in changes if c.breaking is breaking]
        lines += [f"## {heading}", "", *(items or ["None."]), ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class _Part:
    """A schema's place: its operation, the part of it (``response 200``) and who writes it."""

    operation: str
    name: str
    direction: Direction
    method: str
    path: str

    def change(self, field: str, what: str, breaking: bool, detail: Detail | None = None) -> Change:
        where = f"{self.name} field '{field}'" if field else self.name
        return Change(self.operation, f"{where}: {what}", breaking, detail)

    def detail(self, kind: DetailKind, **facts: Any) -> Detail:
        return Detail(kind, self.method, self.path, self.direction, **facts)


@dataclass(frozen=True)
class _Holder:
    """The component that holds a field (by its name in each document), and the field."""

    old_schema: str | None
    new_schema: str | None
    field: str

    def facts(self) -> dict[str, Any]:
        return {"schema": self.new_schema, "old_schema": self.old_schema, "field": self.field}


class _Comparison:
    def __init__(self, old: Document, new: Document, aliases: Mapping[str, str]) -> None:
        self.old, self.new, self.aliases = old, new, aliases

    def paths(self) -> Iterator[Change]:
        old_paths, new_paths = self.old.get("paths", {}), self.new.get("paths", {})
        for path, old_item in old_paths.items():
            if path not in new_paths:
                yield Change(path, "path removed", True, Detail("path removed", path=path))
                continue
            for method in METHODS:
                where = f"{method.upper()} {path}"
                old_op, new_op = old_item.get(method), new_paths[path].get(method)
                if old_op is not None and new_op is None:
                    detail = Detail("operation removed", method.upper(), path)
                    yield Change(where, "operation removed", True, detail)
                elif old_op is None and new_op is not None:
                    detail = Detail("operation added", method.upper(), path)
                    yield Change(where, "operation added", False, detail)
                elif old_op is not None and new_op is not None:
                    yield from self.operation(
                        (method.upper(), path), (old_item, old_op), (new_paths[path], new_op)
                    )
        for path in new_paths:
            if path not in old_paths:
                yield Change(path, "path added", False, Detail("path added", path=path))

    def operation(
        self, at: tuple[str, str], old: tuple[Schema, Schema], new: tuple[Schema, Schema]
    ) -> Iterator[Change]:
        method, path = at
        where = f"{method} {path}"
        old_id, new_id = old[1].get("operationId"), new[1].get("operationId")
        if old_id != new_id:
            what = f"operationId changed from {old_id!r} to {new_id!r}"
            if old_id is None or new_id is None:
                what = (
                    f"operationId {old_id or new_id!r} {'added' if old_id is None else 'removed'}"
                )
            detail = Detail(
                "operationId changed",
                method,
                path,
                old_operation_id=old_id,
                new_operation_id=new_id,
            )
            yield Change(where, what, old_id is not None, detail)
        old_params, new_params = _parameters(self.old, *old), _parameters(self.new, *new)
        for place, name in {**old_params, **new_params}:
            part = _Part(where, f"{place} parameter '{name}'", "request", method, path)
            yield from self.input(
                part, old_params.get((place, name)), new_params.get((place, name)), (place, name)
            )
        body = _Part(where, "request body", "request", method, path)
        yield from self.input(body, old[1].get("requestBody"), new[1].get("requestBody"))
        yield from self.responses(body, old[1].get("responses", {}), new[1].get("responses", {}))
        yield from self.security(where, old[1], new[1])

    def input(
        self,
        part: _Part,
        old: Schema | None,
        new: Schema | None,
        parameter: tuple[str, str] | None = None,
    ) -> Iterator[Change]:
        """A parameter or a request body: clients that sent the old one must still be served."""
        old = _resolve(self.old, old)[0] if old is not None else None
        new = _resolve(self.new, new)[0] if new is not None else None
        required = new is not None and bool(new.get("required"))
        if new is None:
            if old is not None:  # what old clients send is now ignored
                detail = part.detail("parameter removed", parameter=parameter)
                yield part.change("", "removed", False, detail if parameter else None)
        elif old is None:
            detail = part.detail("parameter added", parameter=parameter)
            what = "added (required)" if required else "added"
            yield part.change("", what, required, detail if parameter else None)
        else:
            if required != bool(old.get("required")):
                yield part.change("", f"now {'required' if required else 'optional'}", required)
            if "schema" in old or "schema" in new:
                yield from self.schema(part, "", old.get("schema", {}), new.get("schema", {}))
            yield from self.content(part, old.get("content", {}), new.get("content", {}))

    def responses(self, body: _Part, old: Schema, new: Schema) -> Iterator[Change]:
        where = body.operation
        for status, old_response in old.items():
            success = str(status).startswith("2")
            if status not in new:  # clients wait for a 2xx they will not get
                detail = Detail("response removed", body.method, body.path, status=str(status))
                yield Change(where, f"response {status} removed", success, detail)
            elif success:
                old_content = _resolve(self.old, old_response)[0].get("content", {})
                new_content = _resolve(self.new, new[status])[0].get("content", {})
                part = _Part(where, f"response {status}", "response", body.method, body.path)
                yield from self.content(part, old_content, new_content)
        for status in new:
            if status not in old:
                detail = Detail("response added", body.method, body.path, status=str(status))
                yield Change(where, f"response {status} added", False, detail)

    def content(self, part: _Part, old: Schema, new: Schema) -> Iterator[Change]:
        for media_type, old_media in old.items():
            if media_type not in new:
                yield part.change("", f"media type {media_type} removed", True)
            else:
                old_schema = old_media.get("schema", {})
                yield from self.schema(part, "", old_schema, new[media_type].get("schema", {}))
        for media_type in new:
            if media_type not in old:
                yield part.change("", f"media type {media_type} added", False)

    def schema(
        self,
        part: _Part,
        field: str,
        old: Schema,
        new: Schema,
        seen: Seen = frozenset(),
        holder: _Holder | None = None,
    ) -> Iterator[Change]:
        """Changes of one schema and, through its non-null variant, of its fields and items;
        ``holder`` is the component field the schema describes, when it is one."""
        (old, old_ref), (new, new_ref) = _resolve(self.old, old), _resolve(self.new, new)
        outer = _visit(seen, old_ref, new_ref)
        if outer is None:
            return
        facts = holder.facts() if holder else {}
        old_types, new_types = _types(self.old, old), _types(self.new, new)
        if old_types is not None and new_types is not None and old_types != new_types:
            # Requests: the new schema must accept all the old one did; responses: the reverse.
            request = part.direction == "request"
            wider, narrower = (new_types, old_types) if request else (old_types, new_types)
            shown = f"from {_show_types(old_types)} to {_show_types(new_types)}"
            detail = part.detail(
                "type changed",
                **facts,
                old_types=_sorted_types(old_types),
                new_types=_sorted_types(new_types),
            )
            yield part.change(field, f"type changed {shown}", not _covers(wider, narrower), detail)
            if not _values(old_types) & _values(new_types):
                return  # e.g. an array that became an object: its items and fields do not compare
        # ``Model | None`` and ``list[X] | None``: compare what is inside the Optional.
        (old, inner_old_ref), (new, inner_new_ref) = (
            _resolve(self.old, _non_null(old)),
            _resolve(self.new, _non_null(new)),
        )
        inner = _visit(outer, inner_old_ref, inner_new_ref)
        if inner is None:
            return
        old_enum, new_enum = _enum(old), _enum(new)
        if old_enum is not None and new_enum is not None:
            if removed := [value for value in old_enum if value not in new_enum]:
                detail = part.detail("enum values removed", **facts)
                yield part.change(field, f"enum values removed: {_show(removed)}", True, detail)
            if added := [value for value in new_enum if value not in old_enum]:
                detail = part.detail("enum values added", **facts)
                yield part.change(field, f"enum values added: {_show(added)}", False, detail)
        names = (_component(inner_old_ref or old_ref), _component(inner_new_ref or new_ref))
        yield from self.properties(part, field, (old, new), names, inner)
        if isinstance(old.get("items"), Mapping) and isinstance(new.get("items"), Mapping):
            yield from self.schema(part, f"{field}[]", old["items"], new["items"], inner, holder)

    def properties(
        self,
        part: _Part,
        field: str,
        schemas: tuple[Schema, Schema],
        names: tuple[str | None, str | None],
        seen: Seen,
    ) -> Iterator[Change]:
        old, new = schemas
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        request = part.direction == "request"
        for name in {**old_fields, **new_fields}:
            path = f"{field}.{name}" if field else name
            holder = _Holder(names[0], names[1], name)
            was, now = name in old_required, name in new_required
            if name not in new_fields:
                # Clients read it; or they send it and the schema now refuses unknown fields.
                refused = new.get("additionalProperties") is False
                types = _types(self.old, old_fields[name])
                detail = part.detail(
                    "field removed", **holder.facts(), old_types=_sorted_types(types)
                )
                yield part.change(path, "removed", not request or refused, detail)
            elif name not in old_fields:
                required = request and now
                types = _types(self.new, new_fields[name])
                detail = part.detail(
                    "field added", **holder.facts(), new_types=_sorted_types(types)
                )
                what = "added (required)" if required else "added"
                yield part.change(path, what, required, detail)
            else:
                if request and was != now:  # in a response, ``required`` follows defaults only
                    kind: DetailKind = "field now required" if now else "field now optional"
                    detail = part.detail(kind, **holder.facts())
                    what = f"now {'required' if now else 'optional'}"
                    yield part.change(path, what, now, detail)
                yield from self.schema(part, path, old_fields[name], new_fields[name], seen, holder)

    def security(self, where: str, old_op: Schema, new_op: Schema) -> Iterator[Change]:
        old = _requirements(old_op.get("security", self.old.get("security", [])), self.aliases)
        new = _requirements(new_op.get("security", self.new.get("security", [])), {})
        if old != new:
            # A client that met an old requirement must meet a new one with the same credentials.
            breaking = any(not any(_no_stricter(n, o) for n in new) for o in old)
            shown = f"from {_show_security(old)} to {_show_security(new)}"
            yield Change(where, f"security changed {shown}", breaking)


def _component(ref: str | None) -> str | None:
    """The component a ``$ref`` names, ``None`` for none or one outside the components."""
    prefix = "#/components/schemas/"
    if ref is None or not ref.startswith(prefix):
        return None
    return ref[len(prefix) :].replace("~1", "/").replace("~0", "~")


def _sorted_types(types: frozenset[str] | None) -> tuple[str, ...] | None:
    return None if types is None else tuple(sorted(types, key=lambda t: (t == "null", t)))


def _resolve(document: Document, schema: Schema) -> tuple[Schema, str | None]:
    """``schema`` with its ``$ref``s (and one-member ``allOf`` wrappers) followed, and the last
    reference followed, which names the schema for the recursion guard."""
    ref = None
    for _ in range(_MAX_REF_CHAIN):
        if "$ref" in schema:
            ref = schema["$ref"]
            schema = _pointer(document, ref)
        elif len(schema.get("allOf", ())) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            return schema, ref
    raise DocumentError(f"$ref chain too long or circular at {ref}")


def _visit(seen: Seen, old_ref: str | None, new_ref: str | None) -> Seen | None:
    """The pairs of named schemas on the way here, with this one; ``None`` if it is already
    among them (a recursive schema, such as a tree node whose children are tree nodes)."""
    if old_ref is None and new_ref is None:
        return seen
    return None if (old_ref, new_ref) in seen else seen | {(old_ref, new_ref)}


def _pointer(document: Document, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise DocumentError(f"cannot follow $ref {ref!r}: only references within the document")
    target: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, Mapping) or part not in target:
            raise DocumentError(f"$ref {ref!r} points to nothing")
        target = target[part]
    if not isinstance(target, Mapping):
        raise DocumentError(f"$ref {ref!r} is not an object")
    return target


def _parameters(
    document: Document, path_item: Schema, operation: Schema
) -> dict[tuple[str, str], Schema]:
    """An operation's parameters by (place, name); its own override its path's (OpenAPI 4.8.9)."""
    found = {}
    for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = _resolve(document, parameter)[0]
        found[(parameter["in"], parameter["name"])] = parameter
    return found


def _types(document: Document, schema: Schema, depth: int = 0) -> frozenset[str] | None:
    """The JSON types a schema allows, ``None`` when any (``{}``) or not known."""
    schema = _resolve(document, schema)[0]
    nullable = {"null"} if schema.get("nullable") else set()  # OpenAPI 3.0's Optional
    if "type" in schema:
        declared = schema["type"]
        return frozenset([declared] if isinstance(declared, str) else declared) | nullable
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants and depth < _MAX_REF_CHAIN:
        found = [_types(document, variant, depth + 1) for variant in variants]
        if any(types is None for types in found):
            return None
        return frozenset(nullable).union(*(types for types in found if types is not None))
    return None


def _covers(wider: frozenset[str], narrower: frozenset[str]) -> bool:
    return all(t in wider or (t == "integer" and "number" in wider) for t in narrower)


def _values(types: frozenset[str]) -> set[str]:
    """The kinds of non-null values of these types: an integer is a number."""
    return {"number" if t == "integer" else t for t in types} - {"null"}


def _non_null(schema: Schema) -> Schema:
    variants = schema.get("anyOf") or schema.get("oneOf") or []
    others = [variant for variant in variants if variant.get("type") != "null"]
    return others[0] if len(others) == 1 else schema


def _enum(schema: Schema) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    return [schema["const"]] if "const" in schema else None


def _requirements(
    security: Sequence[Mapping[str, Sequence[str]]], aliases: Mapping[str, str]
) -> frozenset[Requirement]:
    # No requirement at all is one requirement that needs nothing: anyone may call.
    return frozenset(
        frozenset((aliases.get(scheme, scheme), frozenset(scopes)) for scheme, scopes in r.items())
        for r in security or [{}]
    )


def _no_stricter(new: Requirement, old: Requirement) -> bool:
    had = dict(old)
    return all(scheme in had and scopes <= had[scheme] for scheme, scopes in new)


def _show_types(types: frozenset[str]) -> str:
    return " | ".join(_sorted_types(types) or ())


def _show(values: list[Any]) -> str:
    return ", ".join(repr(value) for value in values)


def _show_security(requirements: frozenset[Requirement]) -> str:
    def one(requirement: Requirement) -> str:
        return " and ".join(
            f"{scheme} [{' '.join(sorted(scopes))}]" if scopes else scheme
            for scheme, scopes in sorted(requirement)
        )

    return " or ".join(sorted(one(r) or "none" for r in requirements))
