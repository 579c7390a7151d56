"""``gateway openapi``: each released version's OpenAPI document, kept as its contract.

- ``snapshot [N...]`` writes ``v<N>.openapi.json`` next to the version modules, to be committed;
- ``check`` compares every stable and deprecated version with its snapshot and fails on a breaking
  change, so that CI stops a change that would break the clients of a released version;
- ``diff A B`` prints, as a Markdown changelog, what changes for a client moving from A to B.

The comparison is ``gateway.contracts``; this module finds the documents and prints the results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from gateway.contracts.compare import Change, DocumentError, changelog, compare
from gateway.errors import GatewayError
from gateway.settings import Settings, VersionStatus, load_settings
from gateway.version_info import VersionInfo
from gateway.versioning.discovery import discover_versions, display, package_directory
from gateway.versioning.docs import contract_document

T = TypeVar("T")

# Released versions: their clients rely on them. A preview may still change; a retired one is gone.
CHECKED_STATUSES: tuple[VersionStatus, ...] = ("stable", "deprecated")


@dataclass(frozen=True)
class LiveVersion:
    """A version as the gateway would serve it now, and its OpenAPI document."""

    info: VersionInfo
    document: dict[str, Any]


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


def live_versions(settings: Settings) -> dict[int, LiveVersion]:
    """Every version's OpenAPI document as ``/apiv<N>/openapi.json`` serves it, less what depends
    on where it is served (``servers``) or on its lifecycle (deprecation notes)."""
    live = {}
    for found in discover_versions(settings.versions):
        status = settings.versions.for_version(found.number).status
        info = VersionInfo(found.number, found.source, status, found.scopes)
        found.app.version = info.name  # as the gateway sets it when it mounts the version
        document = contract_document(found.app, info)
        live[found.number] = LiveVersion(
            info, {key: value for key, value in document.items() if key != "servers"}
        )
    return live


def snapshot_directory(settings: Settings) -> Path:
    """The versions package's folder, where ``v<N>.openapi.json`` sits next to ``v<N>.py``."""
    return package_directory(settings.versions.package)


def orphaned_snapshots(live: Mapping[int, LiveVersion], directory: Path) -> list[tuple[int, Path]]:
    """Snapshots of released versions whose module is gone: removing one breaks its clients."""
    found = [(SNAPSHOT_NAME.match(path.name), path) for path in directory.glob("v*.openapi.json")]
    numbered = [(int(match.group(1)), path) for match, path in found if match]
    return sorted((number, path) for number, path in numbered if number not in live)


SNAPSHOT_NAME = re.compile(r"^v([1-9][0-9]*)\.openapi\.json$")


def snapshot_path(directory: Path, number: int) -> Path:
    return directory / f"v{number}.openapi.json"


def write_snapshot(path: Path, document: Mapping[str, Any]) -> None:
    # Sorted keys and one value a line: a change to the contract is a readable diff in review.
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_snapshot(path: Path) -> dict[str, Any] | None:
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
        if version.info.status not in CHECKED_STATUSES:
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


def compare_documents(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    source: str,
    scheme_aliases: Mapping[str, str] | None = None,
) -> list[Change]:
    try:
        return compare(old, new, scheme_aliases=scheme_aliases)
    except DocumentError as error:
        raise GatewayError(f"{source}: {error}") from None


def one_line_errors(command: Callable[..., T]) -> Callable[..., T]:
    """``gateway.cli.one_line_errors``, looked up when the command runs: ``gateway.cli`` imports
    this module to register the group, so importing it here at the top would be circular."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from gateway.cli.main import one_line_errors as cli_errors

        return cli_errors(command)(*args, **kwargs)

    return wrapper


def _pick(live: Mapping[int, LiveVersion], numbers: Sequence[int]) -> list[LiveVersion]:
    unknown = [number for number in numbers if number not in live]
    if unknown:
        known = ", ".join(f"v{number}" for number in live) or "none"
        raise GatewayError(f"no version {unknown[0]}; versions: {known}")
    return [live[number] for number in numbers or live]


@click.group()
def openapi() -> None:
    """Keep each released version's OpenAPI document as a contract and check it."""


@openapi.command()
@click.argument("numbers", nargs=-1, type=click.IntRange(min=1), metavar="[N]...")
@one_line_errors
def snapshot(numbers: tuple[int, ...]) -> None:
    """Write the versions' contract snapshots.

    Each named version's OpenAPI document (every version's when none is named) goes to
    v<N>.openapi.json next to the version modules; commit it when the version is released.
    """
    settings = load_settings()
    chosen = _pick(live_versions(settings), numbers)
    directory = snapshot_directory(settings)
    for version in chosen:
        path = snapshot_path(directory, version.info.number)
        write_snapshot(path, version.document)
        click.echo(f"wrote {display(path)}")


@openapi.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@one_line_errors
def check(as_json: bool) -> None:
    """Check released versions against snapshots.

    Every stable and deprecated version is compared with its snapshot: breaking changes fail
    the check, additive ones are listed and pass.
    """
    settings = load_settings()
    live, directory = live_versions(settings), snapshot_directory(settings)
    results = check_versions(live, directory)
    orphans = orphaned_snapshots(live, directory)
    if as_json:
        click.echo(json.dumps([_as_json(result) for result in results], indent=2))
    else:
        for result in results:
            for line in _report(result):
                click.echo(f"v{result.info.number}: {line}")
    for number, path in orphans:
        click.echo(
            f"v{number}: breaking: the version is gone but {display(path)} says it was released; "
            f'keep its module and set [versions.v{number}] status = "retired"',
            err=as_json,
        )
    broken = [f"v{result.info.number}" for result in results if result.breaking]
    broken += [f"v{number}" for number, _ in orphans]
    if broken:
        raise GatewayError(
            f"breaking changes in {', '.join(broken)}: restore the released contract, or make "
            "the change in a new version"
        )


def _report(result: VersionCheck) -> list[str]:
    number, status = result.info.number, result.info.status
    if not result.checked:
        return [f"{status}, not checked"]
    if result.snapshot is None:
        return [f"no snapshot; run `gateway openapi snapshot {number}`"]
    lines = [f"breaking: {change}" for change in result.breaking]
    lines += [f"additive: {change}" for change in result.additive]
    if result.additive and not result.breaking:
        lines.append(f"ok; record these changes with `gateway openapi snapshot {number}`")
    return lines or [f"ok ({status}, matches {display(result.snapshot)})"]


def _as_json(result: VersionCheck) -> dict[str, Any]:
    return {
        "version": result.info.number,
        "status": result.info.status,
        "checked": result.checked,
        "snapshot": display(result.snapshot) if result.snapshot else None,
        "breaking": [str(change) for change in result.breaking],
        "additive": [str(change) for change in result.additive],
    }


@openapi.command()
@click.argument("old", type=click.IntRange(min=1), metavar="A")
@click.argument("new", type=click.IntRange(min=1), metavar="B")
@one_line_errors
def diff(old: int, new: int) -> None:
    """Changes from version A to B, in Markdown.

    Prints what a client moving from version A to version B meets, breaking changes first.
    """
    before, after = _pick(live_versions(load_settings()), [old, new])
    # Each version names its security scheme after itself; that rename alone changes nothing.
    aliases = {before.info.security_scheme: after.info.security_scheme}
    changes = compare_documents(before.document, after.document, f"v{old}", aliases)
    click.echo(changelog(f"Changes from v{old} to v{new}", changes), nl=False)
