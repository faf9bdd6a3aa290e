"""indexes for housekeeping: sent outbox rows, fired and cancelled timers

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
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


def downgrade() -> None:
    op.drop_index("ix_timers_cancelled_at", table_name="timers")
    op.drop_index("ix_timers_fired_at", table_name="timers")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
