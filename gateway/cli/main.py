"""The ``gateway`` command: a thin layer that parses, builds settings, calls the library, and on
failure prints one line (``gateway: error: ...``) and exits non-zero.

This module is the root group, with ``serve`` and ``check``; each other command group is a module
of its own (``users``, ``db``, ``versions`` with ``usage``, ``openapi``) that imports only
``gateway.cli.common`` and the library, and is attached here.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click
import uvicorn

from gateway.app import configure_logging, create_app
from gateway.cli.common import one_line_errors, run, settings_with
from gateway.cli.db import db
from gateway.cli.openapi import openapi
from gateway.cli.usage import usage
from gateway.cli.users import users
from gateway.cli.versions import versions
from gateway.settings import SETTINGS_ENV, Settings, load_settings, settings_file
from gateway.storage.database import Database
from gateway.storage.migrate import prepare
from gateway.versioning.discovery import migrations_for


@click.group()
@click.option(
    "--settings",
    "settings_path",
    metavar="FILE",
    help=f"Settings file (default: ${SETTINGS_ENV} or ./settings.toml).",
)
@click.pass_context
def cli(context: click.Context, settings_path: str | None) -> None:
    """A multi-version API gateway: every module in versions/ served at /apiv<N>."""
    if settings_path:
        os.environ[SETTINGS_ENV] = settings_path  # worker processes read the same file
    # Like uvicorn's --app-dir: the versions package is found from the working directory.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    context.ensure_object(dict)


@cli.command()
@click.option("--host", help="Address to listen on.")
@click.option("--port", type=int, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), help="Number of worker processes.")
@click.option("--reload", is_flag=True, help="Restart when code changes (development).")
@click.option("--root-path", help="Path prefix a reverse proxy serves the gateway under.")
@one_line_errors
def serve(
    host: str | None, port: int | None, workers: int | None, reload: bool, root_path: str | None
) -> None:
    """Serve the gateway."""
    server = {"host": host, "port": port, "workers": workers, "root_path": root_path}
    settings = settings_with(server=server)
    # Problems only until the gateway is known to start, so a failure stays one line.
    configure_logging("warning")
    app = create_app(settings)  # validates settings, key and every version before listening
    run(_check_database(settings))
    logging.getLogger().setLevel(settings.server.log_level.upper())
    options: dict[str, Any] = {
        "host": settings.server.host,
        "port": settings.server.port,
        "root_path": settings.server.root_path,
        "log_level": settings.server.log_level,
        # The gateway writes its own JSON access log, without query strings that may hold tokens.
        "access_log": False,
        # Every worker gets these through uvicorn's config; they replace FORWARDED_ALLOW_IPS.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.server.forwarded_allow_ips,
    }
    if settings.server.workers == 1 and not reload:
        uvicorn.run(app, **options)
        return
    # Separate processes build their own app from the same file and environment.
    for key, value in server.items():
        if value is not None:
            os.environ[f"GATEWAY_SERVER__{key.upper()}"] = str(value)
    uvicorn.run(
        "gateway.app:create_app_from_environment",
        factory=True,
        workers=None if reload else settings.server.workers,
        reload=reload,
        app_dir=os.getcwd(),
        **options,
    )


async def _check_database(settings: Settings) -> None:
    database = Database(settings.database)
    try:
        await prepare(database, settings, migrations_for(settings.versions))
    finally:
        await database.dispose()


@cli.command()
@one_line_errors
def check() -> None:
    """Validate settings, every version module and the database, then exit."""
    settings = load_settings()
    app = create_app(settings)
    run(_check_database(settings))
    served = ", ".join(
        f"v{version.number} ({version.status}, {version.source})"
        for version in app.state.gateway.versions
    )
    source = settings_file() or "defaults"
    click.echo(f"ok: settings from {source}; versions: {served or 'none'}")
    click.echo(f"ok: database {Database(settings.database).display_url} reachable")


versions.add_command(usage)
for group in (users, db, versions, openapi):
    cli.add_command(group)


def main() -> None:
    cli(prog_name="gateway")
