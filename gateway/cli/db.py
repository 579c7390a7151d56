"""``gateway db``: the database schema, for deployments that upgrade it as a step of their own.

``current`` exits non-zero when the database is behind the code, so a deployment script can stop
before serving a schema the code does not expect.
"""

from __future__ import annotations

import click

from gateway.cli.common import one_line_errors, run
from gateway.errors import GatewayError
from gateway.settings import Settings, load_settings
from gateway.storage.database import Database
from gateway.storage.migrate import schema_state, upgrade
from gateway.versioning.discovery import migrations_for


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Apply the schema migrations the database lacks."""
    run(_upgrade(load_settings()))


async def _upgrade(settings: Settings) -> None:
    database, config = Database(settings.database), migrations_for(settings.versions)
    try:
        before, heads = await schema_state(database, config)
        if before == heads:
            click.echo(f"{database.display_url} is current ({', '.join(sorted(heads))})")
            return
        await upgrade(database, config)
        click.echo(
            f"upgraded {database.display_url}: {', '.join(sorted(before)) or 'empty'} -> "
            f"{', '.join(sorted(heads))}"
        )
    finally:
        await database.dispose()


@db.command("current")
@one_line_errors
def db_current() -> None:
    """Show the database's schema revisions and whether it is behind; exit 1 if it is."""
    settings = load_settings()
    current, heads = run(_state(settings))
    click.echo(f"database: {', '.join(sorted(current)) or 'empty'}")
    click.echo(f"code:     {', '.join(sorted(heads))}")
    if current != heads:
        raise GatewayError("the database is behind the code: run `gateway db upgrade`")


async def _state(settings: Settings) -> tuple[set[str], set[str]]:
    database = Database(settings.database)
    try:
        return await schema_state(database, migrations_for(settings.versions))
    finally:
        await database.dispose()
