"""orders.total_fee is BIGINT: fen above 2^31 (¥21.47 M) no longer fail the order's events

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "orders", "total_fee", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False
    )


def downgrade() -> None:
    op.alter_column(
        "orders", "total_fee", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False
    )
