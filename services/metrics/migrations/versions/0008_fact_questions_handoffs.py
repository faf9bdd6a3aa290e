"""fact_questions, fact_handoffs: hot questions per item and complaint themes

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fact_questions',
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('shop_id', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=True),
    sa.Column('intent', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=60), nullable=False),
    sa.Column('question', sa.Boolean(), nullable=False),
    sa.Column('theme', sa.String(length=20), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_fact_questions'))
    )
    op.create_index('ix_fact_questions_shop_sent', 'fact_questions', ['shop_id', 'sent_at'], unique=False)
    op.create_index('ix_fact_questions_message', 'fact_questions', ['message_id'], unique=False)
    op.create_table('fact_handoffs',
    sa.Column('reply_request_id', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('shop_id', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('reply_request_id', name=op.f('pk_fact_handoffs'))
    )
    op.create_index('ix_fact_handoffs_message', 'fact_handoffs', ['message_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fact_handoffs_message', table_name='fact_handoffs')
    op.drop_table('fact_handoffs')
    op.drop_index('ix_fact_questions_message', table_name='fact_questions')
    op.drop_index('ix_fact_questions_shop_sent', table_name='fact_questions')
    op.drop_table('fact_questions')
