"""Schema steps of the plumbing tables (inbox, outbox, timers), which every service owns in its
own schema with the same shape (`shared/plumbing.py`).

Each service's Alembic revision that changes them calls one of these pairs, so the four
services' plumbing cannot drift apart. A step, once released, is never edited: a further change
is a new pair here and a new revision in every service.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def inbox_keyed_by_source() -> None:
    """The inbox deduplicates on CloudEvents source + id (rows claimed before get the empty
    source, as record positions do)."""
    op.add_column(
        "inbox", sa.Column("source", sa.String(length=200), server_default="", nullable=False)
    )
    op.drop_constraint("pk_inbox", "inbox", type_="primary")
    op.create_primary_key("pk_inbox", "inbox", ["consumer", "source", "event_id"])


def undo_inbox_keyed_by_source() -> None:
    op.execute("DELETE FROM inbox WHERE source <> ''")
    op.drop_constraint("pk_inbox", "inbox", type_="primary")
    op.create_primary_key("pk_inbox", "inbox", ["consumer", "event_id"])
    op.drop_column("inbox", "source")


def outbox_parking() -> None:
    """Rows the broker will never accept are parked with their reason, out of the pending
    index."""
    op.add_column("outbox", sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("park_reason", sa.Text(), nullable=True))
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["shard", "id"],
        postgresql_where=sa.text("sent_at IS NULL AND parked_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_parked", "outbox", ["id"], postgresql_where=sa.text("parked_at IS NOT NULL")
    )


def undo_outbox_parking() -> None:
    op.drop_index("ix_outbox_parked", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index(
        "ix_outbox_pending", "outbox", ["shard", "id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    op.drop_column("outbox", "park_reason")
    op.drop_column("outbox", "parked_at")


def housekeeping_indexes() -> None:
    """What housekeeping deletes by age: sent outbox rows, fired and cancelled timers."""
    op.create_index(
        "ix_outbox_sent_at", "outbox", ["sent_at"], postgresql_where=sa.text("sent_at IS NOT NULL")
    )
    op.create_index(
        "ix_timers_fired_at",
        "timers",
        ["fired_at"],
        postgresql_where=sa.text("fired_at IS NOT NULL"),
    )
    op.create_index(
        "ix_timers_cancelled_at",
        "timers",
        ["cancelled_at"],
        postgresql_where=sa.text("cancelled_at IS NOT NULL"),
    )


def undo_housekeeping_indexes() -> None:
    op.drop_index("ix_timers_cancelled_at", table_name="timers")
    op.drop_index("ix_timers_fired_at", table_name="timers")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
