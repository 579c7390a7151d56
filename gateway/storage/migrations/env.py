"""Alembic's environment for the gateway: migrations run on a connection the gateway lends.

``gateway.migrate`` opens the connection (async engines included) and passes it in
``config.attributes["connection"]``; there is no URL to read here and no engine of our own.
"""

from alembic import context

from gateway.storage.database import Base

connection = context.config.attributes["connection"]
# Batch mode rewrites tables for ALTERs that SQLite lacks; on PostgreSQL it changes nothing.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
