"""``gateway versions``: the versions the gateway would serve, and a new one to start from.

``list`` shows each version's lifecycle as the settings give it; ``new`` writes a version module
and its test module, and never overwrites a file; ``derive`` makes a version derived over its
successor, with the declarations that keep its snapshot. ``usage`` (who still calls each
version) is its own module, ``gateway.cli.usage``, attached to this group by
``gateway.cli.main``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.cli.common import fail, one_line_errors, table
from gateway.contracts.snapshots import snapshot_directory, snapshot_path
from gateway.settings import load_settings
from gateway.version_info import version_name
from gateway.versioning.derivation.workflow import derive_module
from gateway.versioning.discovery import discover_versions, display, package_directory
from gateway.versioning.index import version_entry
from gateway.versioning.lifecycle import resolve_versions
from gateway.versioning.scaffold import new_version


@click.group()
def versions() -> None:
    """Inspect the versions."""


@versions.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@one_line_errors
def versions_list(as_json: bool) -> None:
    """List the versions the gateway would serve."""
    settings = load_settings()
    found = [(v.number, v.source, v.scopes) for v in discover_versions(settings.versions)]
    rows = [
        {
            **version_entry(version, settings.server.root_path),
            "source": version.source,
            "scopes": sorted(version.scopes),
        }
        for version in resolve_versions(found, settings.versions)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table(
        ["VERSION", "PATH", "STATUS", "DEPRECATED", "SUNSET", "SUCCESSOR", "SOURCE"],
        [
            [
                f"v{r['number']}",
                r["path"],
                r["status"],
                r["deprecated_at"] or "-",
                r["sunset"] or "-",
                f"v{r['successor']}" if r["successor"] else "-",
                r["source"],
            ]
            for r in rows
        ],
    )


@versions.command("new")
@click.argument("number", type=click.IntRange(min=1))
@click.option(
    "--from", "source", type=click.IntRange(min=1), metavar="M", help="Start as a copy of vM."
)
@one_line_errors
def versions_new(number: int, source: int | None) -> None:
    """Create version NUMBER and a test module for it; never overwrites anything."""
    settings = load_settings()
    package_dir = package_directory(settings.versions.package)
    result = new_version(package_dir, Path("tests") / "versions", number, source)
    origin = f" (a copy of {display(result.copied_from)})" if result.copied_from else ""
    for index, path in enumerate(result.created):
        suffix = "/" if path.is_dir() else ""
        click.echo(f"created {display(path)}{suffix}{origin if index == 0 else ''}")
    click.echo(
        f"next: edit it; while it changes, mark it in settings.toml with [versions.v{number}] "
        f'status = "preview"; run its tests with pytest {display(result.created[-1])}; '
        f"restart the gateway to serve it at /{version_name(number)}; when you release it, "
        f"record its contract with: gateway openapi snapshot {number}"
    )


@versions.command("derive")
@click.argument("number", type=click.IntRange(min=1))
@one_line_errors
def versions_derive(number: int) -> None:
    """Make version NUMBER derived over its successor, keeping its snapshot.

    A hand-written module, committed in git, is replaced by declarations over the next higher
    version; a derived one gets the declarations it still lacks, the rest of its text left as
    it is. What no declaration can say is written as a stub or named, one line each, and the
    command then fails.
    """
    settings = load_settings()
    outcome = derive_module(settings, number)
    where = display(outcome.path)
    for declaration in outcome.removed:
        click.echo(f"removed {declaration.text}: v{outcome.successor} no longer fits it")
    for declaration in outcome.added:
        click.echo(f"declared {declaration.text}")
    if outcome.replaced:
        count = len(outcome.added)
        click.echo(
            f"wrote {where}: v{number} derived from v{outcome.successor} with {count} "
            f"declaration{'' if count == 1 else 's'}"
        )
    elif outcome.added or outcome.removed:
        click.echo(f"completed {where}")
    else:
        click.echo(f"{where}: nothing to add")
    for problem in outcome.problems:
        click.echo(f"gateway: {where}: {problem}", err=True)
    snapshot = display(snapshot_path(snapshot_directory(settings), number))
    if not outcome.complete:
        fail(f"{where} does not keep {snapshot} until the above is done by hand")
    click.echo(f"next: review it, then run gateway openapi check; it keeps {snapshot}")
