"""indexes for housekeeping: sent outbox rows, fired and cancelled timers

Revision ID: 0005
Revises: 0004
"""

from shared import plumbing_migrations

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    plumbing_migrations.housekeeping_indexes()


def downgrade() -> None:
    plumbing_migrations.undo_housekeeping_indexes()
