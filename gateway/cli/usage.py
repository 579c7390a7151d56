"""``gateway versions usage [N] [--days 30] [--json]``: who still calls each version.

``gateway.cli.main`` attaches this command to the ``versions`` group. It reads the counts the
gateway has written; a running gateway writes its counts every few seconds, so the latest ones
may still be in its memory.
"""

from __future__ import annotations

import json
from typing import Any

import click

from gateway.cli.common import one_line_errors, run, table
from gateway.errors import GatewayError
from gateway.settings import Settings, load_settings
from gateway.storage.database import Database
from gateway.storage.migrate import prepare
from gateway.usage.recorder import PrincipalUsage, usage_report
from gateway.version_info import requested_version
from gateway.versioning.discovery import discover_versions, migrations_for


@click.command("usage")
@click.argument("version", metavar="[N]", required=False)
@click.option(
    "--days", type=click.IntRange(min=1), default=30, show_default=True, help="Window to report."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@one_line_errors
def usage(version: str | None, days: int, as_json: bool) -> None:
    """Show who called each version (or only version N): requests and when last seen."""
    settings = load_settings()
    discovered = [found.number for found in discover_versions(settings.versions)]
    number = _version_number(version, discovered) if version is not None else None
    rows = run(_report(settings, days, number))
    # Versions with calls but no module any more are shown too: someone still calls them.
    shown = sorted(set(discovered) | {row.version for row in rows})
    if number is not None:
        if number not in shown:
            raise _no_such_version(str(number), discovered)
        shown = [number]
    report = [_version_entry(settings, n, days, [r for r in rows if r.version == n]) for n in shown]
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    window = "the last day" if days == 1 else f"the last {days} days"
    for index, entry in enumerate(report):
        if index:
            click.echo()
        heading = f"v{entry['version']} ({entry['status']})"
        if not entry["principals"]:
            click.echo(f"{heading}: no calls in {window}")
            continue
        requests = entry["requests"]
        click.echo(f"{heading}: {requests} request{'' if requests == 1 else 's'} in {window}")
        table(
            ["PRINCIPAL", "REQUESTS", "LAST SEEN"],
            [[p["principal"], p["requests"], p["last_seen"]] for p in entry["principals"]],
        )


def _version_number(requested: str, discovered: list[int]) -> int:
    number = requested_version(requested)
    if number is None:
        raise _no_such_version(repr(requested), discovered)
    return number


def _no_such_version(name: str, discovered: list[int]) -> GatewayError:
    known = ", ".join(str(n) for n in discovered) or "none"
    return GatewayError(f"no version {name}; versions: {known}")


async def _report(settings: Settings, days: int, version: int | None) -> list[PrincipalUsage]:
    database = Database(settings.database)
    try:
        await prepare(
            database, settings, migrations_for(settings.versions)
        )  # a database no gateway has served yet: no calls
        return await usage_report(database, days=days, version=version)
    finally:
        await database.dispose()


def _version_entry(
    settings: Settings, number: int, days: int, rows: list[PrincipalUsage]
) -> dict[str, Any]:
    return {
        "version": number,
        "status": settings.versions.for_version(number).status,
        "days": days,
        "requests": sum(row.requests for row in rows),
        "principals": [
            {
                "principal": row.principal,
                "requests": row.requests,
                "last_seen": row.last_seen.isoformat(timespec="seconds"),
            }
            for row in rows
        ],
    }
