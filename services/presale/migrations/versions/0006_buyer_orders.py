"""buyer context for the classifier (issue 16): each buyer's latest order, since when each
shop's orders are followed, and the conversation's stage

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buyer_orders",
        sa.Column("shop_id", sa.String(100), nullable=False),
        sa.Column("buyer_id", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "buyer_id", name="pk_buyer_orders"),
    )
    op.create_index("ix_buyer_orders_changed_at", "buyer_orders", ["changed_at"])
    op.create_table(
        "order_feed",
        sa.Column("shop_id", sa.String(100), nullable=False),
        sa.Column("followed_since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", name="pk_order_feed"),
    )
    op.add_column("conversations", sa.Column("stage", sa.String(20), nullable=True))


def downgrade() -> None:
    op.drop_column("conversations", "stage")
    op.drop_table("order_feed")
    op.drop_index("ix_buyer_orders_changed_at", table_name="buyer_orders")
    op.drop_table("buyer_orders")
