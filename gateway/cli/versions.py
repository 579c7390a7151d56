"""``gateway versions``: the versions the gateway would serve, and a new one to start from.

``list`` shows each version's lifecycle as the settings give it; ``new`` writes a version module
and its test module, and never overwrites a file. ``usage`` (who still calls each version) is its
own module, ``gateway.cli.usage``, attached to this group by ``gateway.cli.main``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.cli.common import one_line_errors, table
from gateway.settings import load_settings
from gateway.version_info import version_name
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
