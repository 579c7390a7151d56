"""Storage: the async SQLAlchemy engine and sessions, the declarative base, and migrations.

``UTCDateTime`` is named here because migration scripts, which must never change once released,
refer to it as ``gateway.storage.UTCDateTime``.
"""

from gateway.storage.database import Base, Database, UTCDateTime

__all__ = ["Base", "Database", "UTCDateTime"]
