"""refresh tokens and revocations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:33:32.425652
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.storage

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_id", sa.String(length=64), nullable=True),
        sa.Column("family", sa.String(length=32), nullable=True),
        sa.Column("expires_at", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revocations_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=1024), nullable=False),
        sa.Column("issued_at", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", gateway.storage.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", gateway.storage.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["username"], ["users.username"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_tokens_family"), ["family"], unique=False)
        batch_op.create_index(batch_op.f("ix_refresh_tokens_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_username"))
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_family"))

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revocations_expires_at"))

    op.drop_table("revocations")
