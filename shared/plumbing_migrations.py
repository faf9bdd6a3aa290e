"""Schema steps of the plumbing tables (inbox, outbox, timers), which every service owns in its
own schema with the same shape (`shared/plumbing.py`).

Each service's first revision creates them with `initial_plumbing_tables`, and each
revision that changes them calls one of these pairs, so the four
services' plumbing cannot drift apart. A step, once released, is never edited: a further change
is a new pair here and a new revision in every service.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


def initial_plumbing_tables() -> None:
    """The plumbing tables as every service's first revision (0001) created them; the steps
    below change them from there."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column(
            "handled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["shard", "id"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "timers",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("traceparent", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
        sa.UniqueConstraint("kind", "key", name="uq_timers_kind_key"),
    )
    op.create_index(
        "ix_timers_due",
        "timers",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )


def undo_initial_plumbing_tables() -> None:
    op.drop_index(
        "ix_timers_due",
        table_name="timers",
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )
    op.drop_table("timers")
    op.drop_index(
        "ix_outbox_pending", table_name="outbox", postgresql_where=sa.text("sent_at IS NULL")
    )
    op.drop_table("outbox")
    op.drop_table("inbox")


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
