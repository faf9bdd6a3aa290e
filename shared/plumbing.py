"""Tables every service has in its own schema: inbox, outbox and durable timers."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB


def plumbing_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(200), nullable=False),
        Column("event_id", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        # CloudEvents `ce_source` (an event is unique by source + id); empty for positions.
        Column("source", String(200), nullable=False, server_default=""),
        PrimaryKeyConstraint("consumer", "source", "event_id"),
    )
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("shard", SmallInteger, nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", Text, nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        # A row the broker will never accept is parked (see shared/outbox.py), not retried.
        Column("parked_at", DateTime(timezone=True), nullable=True),
        Column("park_reason", Text, nullable=True),
        Index(
            "ix_outbox_pending",
            "shard",
            "id",
            postgresql_where=text("sent_at IS NULL AND parked_at IS NULL"),
        ),
        Index("ix_outbox_parked", "id", postgresql_where=text("parked_at IS NOT NULL")),
        Index("ix_outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
    )
    timers = Table(
        "timers",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("kind", String(100), nullable=False),
        Column("key", String(300), nullable=False),
        Column("due_at", DateTime(timezone=True), nullable=False),
        Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("traceparent", String(200), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("fired_at", DateTime(timezone=True), nullable=True),
        Column("cancelled_at", DateTime(timezone=True), nullable=True),
        UniqueConstraint("kind", "key", name="uq_timers_kind_key"),
        Index(
            "ix_timers_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
        # Housekeeping deletes by these (`ServiceRuntime.prune`).
        Index("ix_timers_fired_at", "fired_at", postgresql_where=text("fired_at IS NOT NULL")),
        Index(
            "ix_timers_cancelled_at",
            "cancelled_at",
            postgresql_where=text("cancelled_at IS NOT NULL"),
        ),
    )
    return inbox, outbox, timers
