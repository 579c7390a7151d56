"""Schema migrations with Alembic: the gateway's own tables, and the tables of the versions'
shared domain (``<versions package>/_migrations``, a second branch of the same history).

``gateway db upgrade`` applies them. At startup the gateway compares the database with the code:
a database that is behind stops ``gateway serve`` with one line saying which command to run,
except a local SQLite database, which is upgraded in place (there is nobody else to ask).
"""

from __future__ import annotations

import logging
import os
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.storage.database import Database

log = logging.getLogger("gateway")
DOMAIN_MIGRATIONS = "_migrations"


def alembic_config(versions_package_dir: Path | None = None) -> Config:
    """The migration scripts: the gateway's, plus the versions package's ``_migrations``."""
    scripts = Path(str(files("gateway.storage") / "migrations"))
    locations = [scripts / "versions"]
    if versions_package_dir is not None and (versions_package_dir / DOMAIN_MIGRATIONS).is_dir():
        locations.append(versions_package_dir / DOMAIN_MIGRATIONS)
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(map(str, locations)))
    return config


def _on(connection: Connection, config: Config) -> Config:
    config.attributes["connection"] = connection
    return config


def _state(connection: Connection, config: Config) -> tuple[set[str], set[str]]:
    current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(config).get_heads())
    return current, heads


async def schema_state(database: Database, config: Config) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and the heads the code has."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_state, config)


async def upgrade(database: Database, config: Config) -> None:
    """Apply every migration the database lacks, in one transaction where the database can."""

    def run(connection: Connection) -> None:
        command.upgrade(_on(connection, config), "heads")

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def ensure_current(database: Database, settings: Settings, config: Config) -> None:
    """Raise ``GatewayError`` unless the schema matches the code (upgrading local SQLite)."""
    current, heads = await schema_state(database, config)
    if current == heads:
        return
    unknown = current - _known_revisions(config)
    if unknown:
        raise GatewayError(
            f"the database {database.display_url} is at revision {', '.join(sorted(unknown))}, "
            "which this gateway does not know: it was upgraded by a newer version of the code"
        )
    local_sqlite = (
        database.url.get_backend_name() == "sqlite" and settings.server.environment == "local"
    )
    if local_sqlite:
        await upgrade(database, config)
        log.warning("upgraded the local database %s to the current schema", database.display_url)
        return
    raise GatewayError(
        f"the database {database.display_url} is behind the code "
        f"({', '.join(sorted(current)) or 'empty'} -> {', '.join(sorted(heads))}): "
        "run `gateway db upgrade`"
    )


def _known_revisions(config: Config) -> set[str]:
    script = ScriptDirectory.from_config(config)
    return {revision.revision for revision in script.walk_revisions()}


async def prepare(database: Database, settings: Settings, config: Config) -> None:
    """``ensure_current`` with an unreachable database reported as one line."""
    try:
        await ensure_current(database, settings, config)
    except (SQLAlchemyError, OSError) as error:
        raise GatewayError(
            f"cannot use the database {database.display_url}: {type(error).__name__}: "
            f"{getattr(error, 'orig', None) or error}"
        ) from None
