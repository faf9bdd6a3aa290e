"""quality inspection: violation and buyer-risk facts, flags, scores, exposures

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.String(length=200)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('fact_quality_violations',
    sa.Column('message_id', ID, nullable=False),
    sa.Column('rule_id', sa.String(length=100), nullable=False),
    sa.Column('span_start', sa.Integer(), nullable=False),
    sa.Column('span_end', sa.Integer(), nullable=False),
    sa.Column('event_id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('suggestion', sa.String(length=200), nullable=False),
    sa.Column('rules_version', sa.String(length=100), nullable=False),
    sa.Column('sent_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('message_id', 'rule_id', 'span_start', name=op.f('pk_fact_quality_violations'))
    )
    op.create_index('ix_fact_quality_violations_conversation', 'fact_quality_violations', ['conversation_id', 'shop_id'], unique=False)
    op.create_table('fact_risk_messages',
    sa.Column('message_id', ID, nullable=False),
    sa.Column('event_id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('scam_attempt', sa.Boolean(), nullable=False),
    sa.Column('abuse', sa.Boolean(), nullable=False),
    sa.Column('threat', sa.Boolean(), nullable=False),
    sa.Column('sent_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_fact_risk_messages'))
    )
    op.create_index('ix_fact_risk_messages_conversation', 'fact_risk_messages', ['conversation_id', 'shop_id'], unique=False)
    op.create_table('quality_flags',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('flag_id', ID, nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('message_id', ID, nullable=True),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('rule_id', sa.String(length=100), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('span_start', sa.Integer(), nullable=True),
    sa.Column('span_end', sa.Integer(), nullable=True),
    sa.Column('suggestion', sa.String(length=200), nullable=False),
    sa.Column('rules_version', sa.String(length=100), nullable=False),
    sa.Column('response_us', sa.BigInteger(), nullable=True),
    sa.Column('at', TS, nullable=False),
    sa.Column('session_start', TS, nullable=True),
    sa.PrimaryKeyConstraint('conversation_id', 'shop_id', 'flag_id', name=op.f('pk_quality_flags'))
    )
    op.create_index('ix_quality_flags_shop_at', 'quality_flags', ['shop_id', 'at', 'agent_id'], unique=False)
    op.create_table('quality_scores',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('session_start', TS, nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('replies', sa.Integer(), nullable=False),
    sa.Column('flags', sa.Integer(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id', 'shop_id', 'session_start', 'agent_id', name=op.f('pk_quality_scores'))
    )
    op.create_index('ix_quality_scores_shop_start', 'quality_scores', ['shop_id', 'session_start', 'agent_id'], unique=False)
    op.create_table('risk_exposures',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('message_id', ID, nullable=False),
    sa.Column('flag', sa.String(length=20), nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.PrimaryKeyConstraint('conversation_id', 'shop_id', 'message_id', 'flag', name=op.f('pk_risk_exposures'))
    )
    op.create_index('ix_risk_exposures_shop_at', 'risk_exposures', ['shop_id', 'at', 'agent_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_risk_exposures_shop_at', table_name='risk_exposures')
    op.drop_table('risk_exposures')
    op.drop_index('ix_quality_scores_shop_start', table_name='quality_scores')
    op.drop_table('quality_scores')
    op.drop_index('ix_quality_flags_shop_at', table_name='quality_flags')
    op.drop_table('quality_flags')
    op.drop_index('ix_fact_risk_messages_conversation', table_name='fact_risk_messages')
    op.drop_table('fact_risk_messages')
    op.drop_index('ix_fact_quality_violations_conversation', table_name='fact_quality_violations')
    op.drop_table('fact_quality_violations')
