"""facts keyed by CloudEvents source + id (event_source), not the id alone

Revision ID: 0009
Revises: 0008

CloudEvents makes an event unique by `source` + `id`: two producers may use the same id.
The facts that are the event itself (assignments, ratings, order and refund events, refund
decisions, classified questions) and the ratings derived from them were keyed by `event_id`
alone, so the second of two such events was dropped as a duplicate. They get an
`event_source` column and the key (event_id, event_source).

Rows ingested before this migration get the empty source (a CloudEvents source is never
empty), as the inbox's rows did in 0002: such an event redelivered after the upgrade is not
recognised (offsets were committed after it, so only a crash in that window redelivers it),
and `python -m ops.metrics_replay` reports those rows as differing until a `--swap` gives
them their sources.
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = (
    'fact_assignments',
    'fact_csat',
    'fact_order_events',
    'fact_refund_events',
    'fact_refund_decisions',
    'fact_questions',
    'csat_attributed',
)


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column('event_source', sa.String(length=200), nullable=False, server_default=''),
        )
        op.alter_column(table, 'event_source', server_default=None)
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        op.create_primary_key(f'pk_{table}', table, ['event_id', 'event_source'])


def downgrade() -> None:
    for table in TABLES:
        # Of events that share an id, one row per id survives the old key.
        op.execute(
            f'DELETE FROM {table} t USING {table} u '
            f'WHERE t.event_id = u.event_id AND t.event_source > u.event_source'
        )
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        op.create_primary_key(f'pk_{table}', table, ['event_id'])
        op.drop_column(table, 'event_source')
