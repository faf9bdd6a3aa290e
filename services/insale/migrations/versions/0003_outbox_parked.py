"""outbox rows the broker will never accept are parked with their reason

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:40:00
"""

from shared import plumbing_migrations

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    plumbing_migrations.outbox_parking()


def downgrade() -> None:
    plumbing_migrations.undo_outbox_parking()
