"""outbox rows the broker will never accept are parked with their reason

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("park_reason", sa.Text(), nullable=True))
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["shard", "id"],
        postgresql_where=sa.text("sent_at IS NULL AND parked_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_parked", "outbox", ["id"], postgresql_where=sa.text("parked_at IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_parked", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index(
        "ix_outbox_pending", "outbox", ["shard", "id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    op.drop_column("outbox", "park_reason")
    op.drop_column("outbox", "parked_at")
