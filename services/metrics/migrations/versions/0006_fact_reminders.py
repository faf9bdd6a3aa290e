"""fact_reminders: 催付 reminders, for the reminder recovery KPI

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:40:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fact_reminders',
    sa.Column('reply_request_id', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('shop_id', sa.String(length=200), nullable=False),
    sa.Column('order_id', sa.String(length=200), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('reply_request_id', name=op.f('pk_fact_reminders'))
    )
    op.create_index('ix_fact_reminders_order', 'fact_reminders', ['order_id', 'shop_id'], unique=False)
    op.create_index('ix_fact_reminders_shop_sent', 'fact_reminders', ['shop_id', 'sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fact_reminders_shop_sent', table_name='fact_reminders')
    op.drop_index('ix_fact_reminders_order', table_name='fact_reminders')
    op.drop_table('fact_reminders')
