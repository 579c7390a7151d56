"""Acceptance: v2's document with the shipped v1's declarations is v1's committed contract.

The successor's document is taken as the gateway builds it, before the per-version steps; the
skip/limit list, which has no equivalent in v2's cursor pages, is the module's own operation,
taken from the hand-written v1 the derived one replaced. The result then goes through
the same steps as any version's document (``contract_document``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gateway.contracts.compare import compare
from gateway.version_info import VersionInfo
from gateway.versioning.derivation.binding import derivation_of
from gateway.versioning.derivation.document import derive_document
from gateway.versioning.derivation.refs import operation_sides, referenced
from gateway.versioning.docs import contract_document
from tests.fixtures.handwritten import v1 as handwritten_v1
from versions import v1, v2
from versions._items import SCOPES

SNAPSHOT = Path(__file__).resolve().parents[4] / "versions" / "v1.openapi.json"


def only(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """``document`` reduced to one operation and the components it reaches."""
    operation = document["paths"][path][method]
    schemas = document["components"]["schemas"]
    names: list[str] = []
    pending = [name for _, part in operation_sides(operation) for name in referenced(part)]
    while pending:
        name = pending.pop()
        if name not in names:
            names.append(name)
            pending.extend(referenced(schemas[name]))
    return {
        "paths": {path: {method: operation}},
        "components": {"schemas": {name: schemas[name] for name in names}},
    }


def changes() -> Any:
    derivation = derivation_of(v1.app)
    assert derivation is not None
    return derivation.changes


def derived_v1() -> dict[str, Any]:
    own = only(handwritten_v1.app.openapi(), "get", "/items/")
    derived = derive_document(v2.app.openapi(), changes(), successor_name="v2", own=own)
    app = FastAPI()
    app.openapi = lambda: derived  # type: ignore[method-assign]
    return contract_document(app, VersionInfo(1, "versions/v1.py", "stable", SCOPES))


def test_no_change_at_all_against_the_committed_snapshot() -> None:
    snapshot = json.loads(SNAPSHOT.read_text())
    assert [str(change) for change in compare(snapshot, derived_v1())] == []


def test_paths_and_components_equal_the_snapshot_key_for_key() -> None:
    snapshot = json.loads(SNAPSHOT.read_text())
    derived = json.loads(json.dumps(derived_v1(), sort_keys=True))
    assert derived["components"] == snapshot["components"]
    assert derived["paths"] == snapshot["paths"]


def test_the_successor_document_is_not_changed() -> None:
    successor = v2.app.openapi()
    before = copy.deepcopy(successor)
    derive_document(successor, changes(), successor_name="v2")
    assert successor == before
