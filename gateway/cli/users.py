"""``gateway users``: the people who can log in at every version's token route, and their scopes.

A scope must be one some version offers, so that a typo does not create a user who can call
nothing; passwords are read once, from a prompt or from standard input for scripts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import click

from gateway.auth.passwords import Passwords
from gateway.auth.users import UserStore, check_password, check_username
from gateway.cli.common import one_line_errors, run, table
from gateway.errors import UserError
from gateway.settings import Settings, load_settings
from gateway.storage.database import Database
from gateway.storage.migrate import prepare
from gateway.versioning.discovery import discover_versions, migrations_for


@click.group()
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
