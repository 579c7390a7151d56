"""items

Revision ID: items_0001
Revises:
Create Date: 2026-11-28 15:29:23.919994
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.storage

revision: str = "items_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("versions",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.storage.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("items")
