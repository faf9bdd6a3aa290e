"""inbox deduplicates on CloudEvents source + id

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:40:00

Rows claimed before this migration get the empty source, as record positions do: an event
handled before the upgrade and redelivered after it is not recognised by the inbox (offsets
were committed after it, so only a crash in that window redelivers it).
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'inbox', sa.Column('source', sa.String(length=200), server_default='', nullable=False)
    )
    op.drop_constraint('pk_inbox', 'inbox', type_='primary')
    op.create_primary_key('pk_inbox', 'inbox', ['consumer', 'source', 'event_id'])


def downgrade() -> None:
    op.execute("DELETE FROM inbox WHERE source <> ''")
    op.drop_constraint('pk_inbox', 'inbox', type_='primary')
    op.create_primary_key('pk_inbox', 'inbox', ['consumer', 'event_id'])
    op.drop_column('inbox', 'source')
