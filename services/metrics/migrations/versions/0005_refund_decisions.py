"""refund decisions: whether the shop's policy recognised each refund's reason (issue 16)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:40:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fact_refund_decisions',
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('shop_id', sa.String(length=200), nullable=False),
    sa.Column('refund_id', sa.String(length=200), nullable=False),
    sa.Column('rule_id', sa.String(length=200), nullable=False),
    sa.Column('refund_reason', sa.String(length=100), nullable=True),
    sa.Column('recognised', sa.Boolean(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_fact_refund_decisions'))
    )
    op.create_index('ix_fact_refund_decisions_shop_decided', 'fact_refund_decisions', ['shop_id', 'decided_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fact_refund_decisions_shop_decided', table_name='fact_refund_decisions')
    op.drop_table('fact_refund_decisions')
