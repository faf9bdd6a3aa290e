"""indexes for housekeeping: sent outbox rows, fired and cancelled timers, resolved cases, buffered refund changes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from shared import plumbing_migrations

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    plumbing_migrations.housekeeping_indexes()
    op.create_index(
        "ix_cases_resolved_at", "cases", ["resolved_at"],
        postgresql_where=sa.text("resolved_at IS NOT NULL"),
    )
    op.create_index("ix_early_refund_changes_changed_at", "early_refund_changes", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_early_refund_changes_changed_at", table_name="early_refund_changes")
    op.drop_index("ix_cases_resolved_at", table_name="cases")
    plumbing_migrations.undo_housekeeping_indexes()
