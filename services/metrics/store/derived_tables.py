"""The derived tables (sessions, rounds, first responses, touches, attributed orders and
ratings, refunds, quality flags, scores and exposures): a pure function of the facts,
recomputed for every conversation, buyer or refund a batch touches; queries add them up per
window. And what metrics published (`kpi_snapshots`) and which hours to look at again
(`snapshot_due`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.metrics.store.schema import ID, metadata
from services.metrics.store.schema import ts as _ts

# -- derived ---------------------------------------------------------------------------------
conv_sessions = Table(
    "conv_sessions",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    _ts("session_start"),
    Column("buyer_id", ID, nullable=False),
    _ts("last_at"),
    Column("has_bot", Boolean, nullable=False),
    Column("has_agent", Boolean, nullable=False),
    Column("assignment_inside", Boolean, nullable=False),
    PrimaryKeyConstraint("conversation_id", "shop_id", "session_start"),
    Index("ix_conv_sessions_shop_start", "shop_id", "session_start"),
)
conv_rounds = Table(
    "conv_rounds",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    _ts("opened_at"),
    _ts("session_start"),
    _ts("session_last_at"),
    Column("responder", ID, nullable=False),
    Column("answered", Boolean, nullable=False),
    _ts("closed_at", nullable=True),
    Column("response_us", BigInteger, nullable=True),
    PrimaryKeyConstraint("conversation_id", "shop_id", "opened_at"),
    Index("ix_conv_rounds_shop_opened", "shop_id", "opened_at", "responder"),
    Index("ix_conv_rounds_open", "shop_id", postgresql_where=text("NOT answered")),
)
conv_responders = Table(
    "conv_responders",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    _ts("session_start"),
    Column("responder", ID, nullable=False),
    Column("buyer_id", ID, nullable=False),
    _ts("first_at"),
    _ts("clock_start"),
    Column("first_response_us", BigInteger, nullable=False),
    Column("bot_resolved", Boolean, nullable=False),
    PrimaryKeyConstraint("conversation_id", "shop_id", "session_start", "responder"),
    Index("ix_conv_responders_shop_start", "shop_id", "session_start", "responder"),
)
conv_touches = Table(
    "conv_touches",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("message_id", ID, nullable=False),
    Column("buyer_id", ID, nullable=False),
    _ts("at"),
    Column("responder", ID, nullable=False),
    _ts("session_start"),
    PrimaryKeyConstraint("conversation_id", "shop_id", "message_id"),
    Index("ix_conv_touches_buyer", "buyer_id", "shop_id", "at"),
)
csat_attributed = Table(
    "csat_attributed",
    metadata,
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    _ts("submitted_at"),
    Column("rating", SmallInteger, nullable=False),
    Column("responder", ID, nullable=True),
    Column("event_source", ID, nullable=False),  # ce_source: with ce_id, the identity
    PrimaryKeyConstraint("event_id", "event_source"),
    Index("ix_csat_attributed_shop_at", "shop_id", "submitted_at"),
    Index("ix_csat_attributed_conversation", "conversation_id", "shop_id"),
)
orders = Table(
    "orders",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("order_id", ID, nullable=False),
    Column("buyer_id", ID, nullable=False),
    _ts("created_at"),
    _ts("paid_at", nullable=True),
    Column("total_fee", BigInteger, nullable=False),
    Column("responder", ID, nullable=True),
    _ts("touch_session_start", nullable=True),
    PrimaryKeyConstraint("order_id", "shop_id"),
    Index("ix_orders_shop_touch", "shop_id", "touch_session_start"),
    Index("ix_orders_shop_paid", "shop_id", "paid_at"),
    Index("ix_orders_buyer", "buyer_id", "shop_id"),
)
refunds = Table(
    "refunds",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("refund_id", ID, nullable=False),
    _ts("requested_at", nullable=True),
    _ts("succeeded_at", nullable=True),
    _ts("finished_at", nullable=True),
    Column("disputed", Boolean, nullable=False),
    PrimaryKeyConstraint("refund_id", "shop_id"),
    Index("ix_refunds_shop_requested", "shop_id", "requested_at"),
    Index("ix_refunds_shop_succeeded", "shop_id", "succeeded_at"),
    Index("ix_refunds_shop_finished", "shop_id", "finished_at"),
)
# Every quality flag of a conversation: the rules' findings and slow replies (a round an agent
# answered after more than 3 minutes). Flags appear here once; new ones are emitted as
# cs.quality.flagged.v1 by the ingest (flag_id is deterministic).
quality_flags = Table(
    "quality_flags",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("flag_id", ID, nullable=False),
    Column("agent_id", ID, nullable=False),
    Column("message_id", ID, nullable=True),
    Column("category", String(40), nullable=False),
    Column("rule_id", String(100), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("span_start", Integer, nullable=True),
    Column("span_end", Integer, nullable=True),
    Column("suggestion", String(200), nullable=False),
    Column("rules_version", String(100), nullable=False),
    Column("response_us", BigInteger, nullable=True),
    _ts("at"),
    _ts("session_start", nullable=True),
    PrimaryKeyConstraint("conversation_id", "shop_id", "flag_id"),
    Index("ix_quality_flags_shop_at", "shop_id", "at", "agent_id"),
)
# One agent's part in one session, scored: 100 minus weighted deductions; failed by any flag
# of a failing category (off_platform, personal_data, review_inducement by default).
quality_scores = Table(
    "quality_scores",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    _ts("session_start"),
    Column("agent_id", ID, nullable=False),
    Column("replies", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("failed", Boolean, nullable=False),
    PrimaryKeyConstraint("conversation_id", "shop_id", "session_start", "agent_id"),
    Index("ix_quality_scores_shop_start", "shop_id", "session_start", "agent_id"),
)
# Which agent faced which flagged buyer message (the wellbeing KPI).
risk_exposures = Table(
    "risk_exposures",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("message_id", ID, nullable=False),
    Column("flag", String(20), nullable=False),
    Column("agent_id", ID, nullable=False),
    _ts("at"),
    PrimaryKeyConstraint("conversation_id", "shop_id", "message_id", "flag"),
    Index("ix_risk_exposures_shop_at", "shop_id", "at", "agent_id"),
)
DERIVED = (
    conv_sessions,
    conv_rounds,
    conv_responders,
    conv_touches,
    csat_attributed,
    orders,
    refunds,
    quality_flags,
    quality_scores,
    risk_exposures,
)

# -- what metrics emitted, and which hours to look at again --------------------------------------------------------------------
kpi_snapshots = Table(
    "kpi_snapshots",
    metadata,
    Column("shop_id", ID, nullable=False),
    Column("agent_id", ID, nullable=False),
    _ts("hour_start"),
    Column("revision", Integer, nullable=False),
    Column("kpis", JSONB, nullable=False),
    _ts("computed_at"),
    PrimaryKeyConstraint("shop_id", "agent_id", "hour_start"),
)
snapshot_due = Table(
    "snapshot_due",
    metadata,
    Column("shop_id", ID, nullable=False),
    _ts("hour_start"),
    _ts("due_at"),
    PrimaryKeyConstraint("shop_id", "hour_start"),
    Index("ix_snapshot_due_due_at", "due_at"),
)
