"""inbox deduplicates on CloudEvents source + id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 13:40:00

Rows claimed before this migration get the empty source, as record positions do: an event
handled before the upgrade and redelivered after it is not recognised by the inbox (offsets
were committed after it, so only a crash in that window redelivers it).
"""

from shared import plumbing_migrations

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    plumbing_migrations.inbox_keyed_by_source()


def downgrade() -> None:
    plumbing_migrations.undo_inbox_keyed_by_source()
