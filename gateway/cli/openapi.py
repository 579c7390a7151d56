"""``gateway openapi``: each released version's OpenAPI document, kept as its contract.

- ``snapshot [N...]`` writes ``v<N>.openapi.json`` next to the version modules, to be committed;
- ``check`` compares every stable and deprecated version with its snapshot and fails on a breaking
  change, so that CI stops a change that would break the clients of a released version; under
  each breaking change of a derived version it prints the declaration that restores it;
- ``diff A B`` prints, as a Markdown changelog, what changes for a client moving from A to B.

Finding, writing and comparing the documents is ``gateway.contracts``; this module prints the
results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from gateway.cli.common import one_line_errors
from gateway.contracts.compare import changelog
from gateway.contracts.snapshots import (
    LiveVersion,
    VersionCheck,
    check_versions,
    compare_documents,
    live_versions,
    orphaned_snapshots,
    pick_versions,
    snapshot_directory,
    snapshot_path,
    write_snapshot,
)
from gateway.errors import GatewayError
from gateway.settings import load_settings
from gateway.versioning.derivation.declarations import Declaration
from gateway.versioning.derivation.suggestions import Restoration, Suggested
from gateway.versioning.derivation.workflow import restorations
from gateway.versioning.discovery import display


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
    chosen = pick_versions(live_versions(settings), numbers)
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
    # Leniently: a declaration a changed successor no longer fits is reported, not fatal.
    live = live_versions(settings, lenient=True)
    directory = snapshot_directory(settings)
    results = check_versions(live, directory)
    orphans = orphaned_snapshots(live, directory)
    broken = [
        r.info.number
        for r in results
        if r.breaking or live[r.info.number].stale or live[r.info.number].unbound
    ]
    broken += [number for number, _ in orphans]
    # A derived version sees its successor's changes: the successor is restored first.
    blocked = {number for number in broken if number in live and live[number].successor in broken}
    restoring = {
        r.info.number: restorations(r, live)
        for r in results
        if r.info.number in broken and r.info.number not in blocked
    }
    if as_json:
        reports = [_as_json(r, live[r.info.number], restoring.get(r.info.number)) for r in results]
        click.echo(json.dumps(reports, indent=2))
    else:
        for result in results:
            number = result.info.number
            found = restoring.get(number)
            for line in _report(result, live[number], found, number in blocked):
                click.echo(f"v{number}: {line}")
    for number, path in orphans:
        click.echo(
            f"v{number}: breaking: the version is gone but {display(path)} says it was released; "
            f'keep its module and set [versions.v{number}] status = "retired"',
            err=as_json,
        )
    if broken:
        hints = [
            f"; for v{number}, gateway versions derive {number} writes the declarations"
            for number, found in restoring.items()
            if found is not None
        ]
        raise GatewayError(
            f"breaking changes in {', '.join(f'v{n}' for n in sorted(set(broken)))}: restore "
            f"the released contract, or make the change in a new version{''.join(hints)}"
        )


def _report(
    result: VersionCheck, version: LiveVersion, restoring: list[Suggested] | None, blocked: bool
) -> list[str]:
    number, status = result.info.number, result.info.status
    lines = [f"stale: {stale.problem}" for stale in version.stale]
    if version.unbound is not None:
        lines.append(f"cannot load: {version.unbound}")
        if blocked:
            lines.append(f"  restore v{version.successor} first: v{number} is derived from it")
        return lines
    if not result.checked:
        return [*lines, f"{status}, not checked"]
    if result.snapshot is None:
        return [*lines, f"no snapshot; run `gateway openapi snapshot {number}`"]
    if blocked:
        lines.append(f"  restore v{version.successor} first: v{number} is derived from it")
    for entry in restoring or [Suggested(change, Restoration()) for change in result.breaking]:
        if entry.change.breaking:
            lines += [f"breaking: {entry.change}", *_restore_lines(entry.restoration)]
    lines += [f"additive: {change}" for change in result.additive]
    if result.additive and not result.breaking:
        lines.append(f"ok; record these changes with `gateway openapi snapshot {number}`")
    return lines or [f"ok ({status}, matches {display(result.snapshot)})"]


def _restore_lines(restoration: Restoration) -> list[str]:
    """Under a breaking change of a derived version: the declarations to paste, in the
    successor's names, and what they cannot do."""
    lines = []
    if restoration.declarations:
        lines.append(f"  restore: {_texts(restoration.declarations)}")
    if restoration.alternative:
        lines.append(f"  or, {restoration.condition}: {_texts(restoration.alternative)}")
    if restoration.problem:
        lines.append(
            f"  {'then' if restoration.declarations else 'cannot restore'}: {restoration.problem}"
        )
    return lines


def _texts(declarations: Sequence[Declaration]) -> str:
    return ", ".join(declaration.text for declaration in declarations)


def _as_json(
    result: VersionCheck, version: LiveVersion, restoring: list[Suggested] | None
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if version.stale:
        found["stale"] = [stale.problem for stale in version.stale]
    if version.unbound is not None:
        found["unbound"] = version.unbound
    if restoring is not None:
        found["restore"] = [
            {
                "change": str(entry.change),
                "declarations": [d.text for d in entry.restoration.declarations],
                "alternative": [d.text for d in entry.restoration.alternative],
                "problem": entry.restoration.problem,
            }
            for entry in restoring
            if entry.change.breaking
        ]
    return {
        "version": result.info.number,
        "status": result.info.status,
        "checked": result.checked,
        "snapshot": display(result.snapshot) if result.snapshot else None,
        "breaking": [str(change) for change in result.breaking],
        "additive": [str(change) for change in result.additive],
        **found,
    }


@openapi.command()
@click.argument("old", type=click.IntRange(min=1), metavar="A")
@click.argument("new", type=click.IntRange(min=1), metavar="B")
@one_line_errors
def diff(old: int, new: int) -> None:
    """Changes from version A to B, in Markdown.

    Prints what a client moving from version A to version B meets, breaking changes first.
    """
    before, after = pick_versions(live_versions(load_settings()), [old, new])
    # Each version names its security scheme after itself; that rename alone changes nothing.
    aliases = {before.info.security_scheme: after.info.security_scheme}
    changes = compare_documents(before.document, after.document, f"v{old}", aliases)
    click.echo(changelog(f"Changes from v{old} to v{new}", changes), nl=False)
