"""The ``gateway`` command: a thin layer that parses, builds settings, calls the library, and on
failure prints one line (``gateway: error: ...``) and exits non-zero.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from gateway.app import configure_logging, create_app
from gateway.auth.passwords import Passwords
from gateway.auth.users import UserStore, check_password, check_username
from gateway.cli.openapi import openapi
from gateway.cli.usage import usage
from gateway.errors import GatewayError, UserError
from gateway.settings import SETTINGS_ENV, Settings, load_settings, settings_file
from gateway.storage.database import Database
from gateway.storage.migrate import prepare, schema_state, upgrade
from gateway.versioning.discovery import (
    discover_versions,
    display,
    migrations_for,
    package_directory,
)
from gateway.versioning.index import version_entry
from gateway.versioning.lifecycle import resolve_versions
from gateway.versioning.scaffold import new_version

T = TypeVar("T")


def fail(message: str) -> None:
    click.echo(f"gateway: error: {message}", err=True)
    sys.exit(1)


def one_line_errors(command: Callable[..., T]) -> Callable[..., T]:
    """Turn the library's errors into the CLI's one-line failure."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return command(*args, **kwargs)
        except GatewayError as error:
            fail(str(error))
        except SQLAlchemyError as error:
            fail(f"database error: {type(error).__name__}: {error.args[0] if error.args else ''}")
        except OSError as error:
            fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))
        raise AssertionError("unreachable")

    return wrapper


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


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


def settings_with(**sections: dict[str, Any]) -> Settings:
    overrides = {
        name: {key: value for key, value in values.items() if value is not None}
        for name, values in sections.items()
    }
    return load_settings(None, **{name: values for name, values in overrides.items() if values})


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
    versions = ", ".join(
        f"v{version.number} ({version.status}, {version.source})"
        for version in app.state.gateway.versions
    )
    source = settings_file() or "defaults"
    click.echo(f"ok: settings from {source}; versions: {versions or 'none'}")
    click.echo(f"ok: database {Database(settings.database).display_url} reachable")


@cli.group()
def users() -> None:
    """Manage the users who can log in."""


@users.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--scope", "scopes", multiple=True, metavar="S", help="Grant a scope (repeatable).")
@one_line_errors
def users_add(name: str, password_stdin: bool, scopes: Sequence[str]) -> None:
    """Create a user who can log in at every version's token route."""
    settings = load_settings()
    check_username(name)
    known = {scope for version in discover_versions(settings.versions) for scope in version.scopes}
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise UserError(
            f"unknown scope {', '.join(unknown)}; the versions offer: "
            f"{', '.join(sorted(known)) or 'no scopes'}"
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password(password)
    run(_add_user(settings, name, password, sorted(set(scopes))))
    click.echo(f"created user {name} with scopes: {' '.join(sorted(set(scopes))) or '(none)'}")


async def _add_user(settings: Settings, name: str, password: str, scopes: list[str]) -> None:
    passwords = Passwords(concurrency=1)
    try:
        password_hash = await passwords.hash(password)
    finally:
        passwords.close()
    async with _users(settings) as store:
        await store.add(name, password_hash, scopes)
        await store.session.commit()


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@one_line_errors
def users_list(as_json: bool) -> None:
    """List the users and their scopes."""
    rows = run(_list_users(load_settings()))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table(
        ["USER", "SCOPES", "CREATED"],
        [[r["username"], " ".join(r["scopes"]), r["created_at"]] for r in rows],
    )


async def _list_users(settings: Settings) -> list[dict[str, Any]]:
    async with _users(settings) as store:
        return [
            {
                "username": user.username,
                "scopes": user.scope_list,
                "created_at": user.created_at.isoformat(timespec="seconds"),
            }
            for user in await store.list()
        ]


@users.command("remove")
@click.argument("name")
@one_line_errors
def users_remove(name: str) -> None:
    """Delete a user."""
    run(_remove_user(load_settings(), name))
    click.echo(f"removed user {name}")


async def _remove_user(settings: Settings, name: str) -> None:
    async with _users(settings) as store:
        await store.remove(name)
        await store.session.commit()


@asynccontextmanager
async def _users(settings: Settings) -> AsyncIterator[UserStore]:
    """A ``UserStore`` on a database with the current schema, disposed of afterwards."""
    database = Database(settings.database)
    try:
        await prepare(database, settings, migrations_for(settings.versions))
        async with database.sessions() as session:
            yield UserStore(session)
    finally:
        await database.dispose()


@cli.group()
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


@cli.group()
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
        f"restart the gateway to serve it at /apiv{number}; when you release it, record its "
        f"contract with: gateway openapi snapshot {number}"
    )


versions.add_command(usage)
cli.add_command(openapi)


def table(header: list[str], rows: list[list[Any]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )


def main() -> None:
    cli(prog_name="gateway")
