"""indexes for housekeeping: sent outbox rows, fired and cancelled timers

Revision ID: 0004
Revises: 0003
"""

from shared import plumbing_migrations

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    plumbing_migrations.housekeeping_indexes()


def downgrade() -> None:
    plumbing_migrations.undo_housekeeping_indexes()
