"""indexes for housekeeping: sent outbox rows, fired and cancelled timers, resolved cases, buffered refund changes

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
    op.create_index(
        "ix_outbox_sent_at", "outbox", ["sent_at"], postgresql_where=sa.text("sent_at IS NOT NULL")
    )
    op.create_index(
        "ix_timers_fired_at", "timers", ["fired_at"], postgresql_where=sa.text("fired_at IS NOT NULL")
    )
    op.create_index(
        "ix_timers_cancelled_at", "timers", ["cancelled_at"],
        postgresql_where=sa.text("cancelled_at IS NOT NULL"),
    )
    op.create_index(
        "ix_cases_resolved_at", "cases", ["resolved_at"],
        postgresql_where=sa.text("resolved_at IS NOT NULL"),
    )
    op.create_index("ix_early_refund_changes_changed_at", "early_refund_changes", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_early_refund_changes_changed_at", table_name="early_refund_changes")
    op.drop_index("ix_cases_resolved_at", table_name="cases")
    op.drop_index("ix_timers_cancelled_at", table_name="timers")
    op.drop_index("ix_timers_fired_at", table_name="timers")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
