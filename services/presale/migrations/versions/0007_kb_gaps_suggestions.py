"""kb gaps (questions the bot did not answer, with the agent's reply) and kb suggestions

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_gaps",
        sa.Column("message_id", sa.String(length=200), primary_key=True),
        sa.Column("shop_id", sa.String(length=100), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("buyer_id", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=True),
        sa.Column("intent", sa.String(length=40), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("entities", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  server_default=sa.text("'{}'::jsonb")),
        sa.Column("text_masked", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_masked", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_kb_gaps_conversation", "kb_gaps", ["conversation_id", "asked_at"])
    op.create_index("ix_kb_gaps_shop_asked", "kb_gaps", ["shop_id", "asked_at"])
    op.create_table(
        "kb_suggestions",
        sa.Column("suggestion_id", sa.String(length=40), primary_key=True),
        sa.Column("shop_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("draft", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("variants", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("kb_version", sa.Integer(), nullable=True),
    )
    op.create_index("ix_kb_suggestions_shop_status", "kb_suggestions", ["shop_id", "status", "rank"])


def downgrade() -> None:
    op.drop_index("ix_kb_suggestions_shop_status", table_name="kb_suggestions")
    op.drop_table("kb_suggestions")
    op.drop_index("ix_kb_gaps_shop_asked", table_name="kb_gaps")
    op.drop_index("ix_kb_gaps_conversation", table_name="kb_gaps")
    op.drop_table("kb_gaps")
