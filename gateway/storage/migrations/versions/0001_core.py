"""core tables: users and version usage

Revision ID: 0001
Revises:
Create Date: 2026-11-28 15:29:17.871571
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.storage

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("gateway",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.String(length=1024), nullable=False),
        sa.Column("created_at", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "version_last_call",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seen", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "version_usage",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("hour", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "principal", "hour"),
    )
    with op.batch_alter_table("version_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_version_usage_hour"), ["hour"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("version_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_version_usage_hour"))

    op.drop_table("version_usage")
    op.drop_table("version_last_call")
    op.drop_table("users")
