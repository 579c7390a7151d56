"""A fresh PostgreSQL database per test, on the server the machine runs (127.0.0.1:5432).

``TEST_POSTGRESQL_URL`` names another server. When none answers, the tests that need it
are skipped with a message that says what is missing and how to start it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

SERVER_URL = os.environ.get(
    "TEST_POSTGRESQL_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
MISSING = (
    "PostgreSQL is not reachable at {url}: start it with "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
    "or set TEST_POSTGRESQL_URL"
)


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    server = make_url(SERVER_URL)
    name = f"gateway_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as error:  # refused, unknown host, auth: all mean "not here"
        await admin.dispose()
        if "does not exist" in str(error) or isinstance(error, OSError) or "refused" in str(error):
            pytest.skip(MISSING.format(url=server.render_as_string(hide_password=True)))
        raise
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
