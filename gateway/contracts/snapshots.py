"""Each released version's OpenAPI document, kept as ``v<N>.openapi.json`` next to its module.

A snapshot is the contract a version's clients rely on: it is written when the version is
released, committed, and every stable and deprecated version is checked against it, so that a
change that would break those clients is caught before it ships. A preview may still change and a
retired version is gone, so neither is checked. The comparison itself is ``compare``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.contracts.compare import Change, DocumentError, compare
from gateway.errors import GatewayError
from gateway.settings import Settings, VersionStatus
from gateway.version_info import VersionInfo
from gateway.versioning.derivation.binding import Derivation, derivation_of
from gateway.versioning.derivation.lenient import Stale
from gateway.versioning.discovery import (
    LenientDiscovery,
    discover_leniently,
    discover_versions,
    display,
    package_directory,
)
from gateway.versioning.docs import contract_document

# Released versions: their clients rely on them. A preview may still change; a retired one is gone.
CHECKED_STATUSES: tuple[VersionStatus, ...] = ("stable", "deprecated")

SNAPSHOT_NAME = re.compile(r"^v([1-9][0-9]*)\.openapi\.json$")


@dataclass(frozen=True)
class LiveVersion:
    """A version as the gateway would serve it now, and its OpenAPI document; for a derived
    version, its declarations and the version it is derived from."""

    info: VersionInfo
    document: dict[str, Any]
    derivation: Derivation | None = None
    successor: int | None = None
    stale: tuple[Stale, ...] = ()  # declarations set aside by a lenient load
    unbound: str | None = None  # why a lenient load could not bind it; its document is empty


@dataclass(frozen=True)
class VersionCheck:
    """One version against its snapshot: ``snapshot`` is ``None`` when there is none."""

    info: VersionInfo
    checked: bool
    snapshot: Path | None
    changes: list[Change]

    @property
    def breaking(self) -> list[Change]:
        return [change for change in self.changes if change.breaking]

    @property
    def additive(self) -> list[Change]:
        return [change for change in self.changes if not change.breaking]


def live_versions(settings: Settings, *, lenient: bool = False) -> dict[int, LiveVersion]:
    """Every version's OpenAPI document as ``/apiv<N>/openapi.json`` serves it, less what depends
    on where it is served (``servers``) or on its lifecycle (deprecation notes); ``lenient``
    sets aside the declarations of a derived version that its successor no longer fits."""
    if lenient:
        discovery = discover_leniently(settings.versions)
    else:
        discovery = LenientDiscovery(discover_versions(settings.versions), {})
    live = {}
    for found in discovery.versions:
        status = settings.versions.for_version(found.number).status
        info = VersionInfo(found.number, found.source, status, found.scopes)
        found.app.version = info.name  # as the gateway sets it when it mounts the version
        document = contract_document(found.app, info)
        live[found.number] = LiveVersion(
            info,
            {key: value for key, value in document.items() if key != "servers"},
            derivation_of(found.app),
            found.successor,
            found.stale,
        )
    for number, unbound in discovery.unbound.items():
        status = settings.versions.for_version(number).status
        info = VersionInfo(number, unbound.version.source, status, unbound.version.scopes)
        derivation = derivation_of(unbound.version.app)
        live[number] = LiveVersion(info, {}, derivation, unbound.successor, (), unbound.problem)
    live = dict(sorted(live.items()))
    return live


def pick_versions(live: Mapping[int, LiveVersion], numbers: Sequence[int]) -> list[LiveVersion]:
    """The versions numbered ``numbers`` (every version when there are none), in that order."""
    unknown = [number for number in numbers if number not in live]
    if unknown:
        known = ", ".join(f"v{number}" for number in live) or "none"
        raise GatewayError(f"no version {unknown[0]}; versions: {known}")
    return [live[number] for number in numbers or live]


def snapshot_directory(settings: Settings) -> Path:
    """The versions package's folder, where ``v<N>.openapi.json`` sits next to ``v<N>.py``."""
    return package_directory(settings.versions.package)


def snapshot_path(directory: Path, number: int) -> Path:
    return directory / f"v{number}.openapi.json"


def write_snapshot(path: Path, document: Mapping[str, Any]) -> None:
    # Sorted keys and one value a line: a change to the contract is a readable diff in review.
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """The snapshot at ``path``, or ``None`` when the version has none."""
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise GatewayError(f"{display(path)}: not a JSON document: {error}") from None
    return document


def check_versions(live: Mapping[int, LiveVersion], directory: Path) -> list[VersionCheck]:
    """Each released version's changes since its snapshot; other versions are left unchecked."""
    results = []
    for number, version in live.items():
        if version.info.status not in CHECKED_STATUSES or version.unbound is not None:
            results.append(VersionCheck(version.info, False, None, []))
            continue
        path = snapshot_path(directory, number)
        snapshot = read_snapshot(path)
        if snapshot is None:
            results.append(VersionCheck(version.info, True, None, []))
            continue
        changes = compare_documents(snapshot, version.document, source=display(path))
        results.append(VersionCheck(version.info, True, path, changes))
    return results


def orphaned_snapshots(live: Mapping[int, LiveVersion], directory: Path) -> list[tuple[int, Path]]:
    """Snapshots of released versions whose module is gone: removing one breaks its clients."""
    found = [(SNAPSHOT_NAME.match(path.name), path) for path in directory.glob("v*.openapi.json")]
    numbered = [(int(match.group(1)), path) for match, path in found if match]
    return sorted((number, path) for number, path in numbered if number not in live)


def compare_documents(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    source: str,
    scheme_aliases: Mapping[str, str] | None = None,
) -> list[Change]:
    """``compare``, with a malformed document named by ``source`` in the error."""
    try:
        return compare(old, new, scheme_aliases=scheme_aliases)
    except DocumentError as error:
        raise GatewayError(f"{source}: {error}") from None
