"""The fact tables: every consumed event reduced to the fields the KPIs need (no free text, so
no personal data), keyed by its identity so a redelivered event is a no-op. An event's
identity is CloudEvents' `source` + `id` (`event_source`, `event_id`) where the fact is the
event itself; a fact about a message or a reply request is keyed by that id.

Lookup indexes lead with the entity id (conversation, buyer, order, refund), not the shop:
a batch refreshes a few hundred entities of one shop with `= ANY(:ids)`, and a shop-first
index would make each refresh scan the whole shop.
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
)

from services.metrics.store.schema import ID, metadata
from services.metrics.store.schema import ts as _ts

# -- facts -----------------------------------------------------------------------------------
fact_messages = Table(
    "fact_messages",
    metadata,
    Column("direction", String(3), nullable=False),  # in (buyer) | out (agent, bot, system)
    Column("message_id", ID, nullable=False),
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("buyer_id", ID, nullable=False),
    Column("sender_kind", String(10), nullable=False),  # buyer | agent | bot | system
    Column("responder", ID, nullable=True),  # agent id, "bot", or null
    _ts("sent_at"),
    PrimaryKeyConstraint("direction", "message_id"),
    Index("ix_fact_messages_conversation", "conversation_id", "shop_id"),
    Index("ix_fact_messages_shop_sent", "shop_id", "sent_at"),
)
fact_assignments = Table(
    "fact_assignments",
    metadata,
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("agent_id", ID, nullable=False),
    _ts("assigned_at"),
    Column("event_source", ID, nullable=False),  # ce_source: with ce_id, the identity
    PrimaryKeyConstraint("event_id", "event_source"),
    Index("ix_fact_assignments_conversation", "conversation_id", "shop_id"),
    Index("ix_fact_assignments_shop_at", "shop_id", "assigned_at"),
)
fact_csat = Table(
    "fact_csat",
    metadata,
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("buyer_id", ID, nullable=False),
    Column("rating", SmallInteger, nullable=False),
    _ts("submitted_at"),
    Column("event_source", ID, nullable=False),  # ce_source: with ce_id, the identity
    PrimaryKeyConstraint("event_id", "event_source"),
    Index("ix_fact_csat_conversation", "conversation_id", "shop_id"),
)
fact_order_events = Table(
    "fact_order_events",
    metadata,
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("order_id", ID, nullable=False),
    Column("buyer_id", ID, nullable=False),
    Column("status", String(40), nullable=False),
    Column("total_fee", BigInteger, nullable=False),
    _ts("created_at"),
    _ts("paid_at", nullable=True),
    _ts("changed_at"),
    Column("event_source", ID, nullable=False),  # ce_source: with ce_id, the identity
    PrimaryKeyConstraint("event_id", "event_source"),
    Index("ix_fact_order_events_order", "order_id", "shop_id"),
    Index("ix_fact_order_events_buyer", "buyer_id", "shop_id"),
)
fact_refund_events = Table(
    "fact_refund_events",
    metadata,
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("refund_id", ID, nullable=False),
    Column("order_id", ID, nullable=False),
    Column("kind", String(10), nullable=False),  # requested | changed
    Column("status", String(40), nullable=True),
    Column("cs_status", SmallInteger, nullable=True),
    _ts("at"),
    Column("event_source", ID, nullable=False),  # ce_source: with ce_id, the identity
    PrimaryKeyConstraint("event_id", "event_source"),
    Index("ix_fact_refund_events_refund", "refund_id", "shop_id"),
)
# One row per cs.refund.decided: did the shop's policy recognise the platform's reason text?
# (served by api/refund_reasons.py; no KPI derives from it)
fact_refund_decisions = Table(
    "fact_refund_decisions",
    metadata,
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("refund_id", ID, nullable=False),
    Column("rule_id", ID, nullable=False),
    Column("refund_reason", String(100), nullable=True),
    Column("recognised", Boolean, nullable=True),
    _ts("decided_at"),
    Column("event_source", ID, nullable=False),  # ce_source: with ce_id, the identity
    PrimaryKeyConstraint("event_id", "event_source"),
    Index("ix_fact_refund_decisions_shop_decided", "shop_id", "decided_at"),
)
fact_reminders = Table(
    "fact_reminders",
    metadata,
    # 催付 reminders insale asked the IM gateway to send (cs.reply.requested.v1, kind reminder).
    Column("reply_request_id", ID, primary_key=True),  # insale derives it from order + number
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("order_id", ID, nullable=False),
    _ts("sent_at"),  # requested_at
    Index("ix_fact_reminders_shop_sent", "shop_id", "sent_at"),
    Index("ix_fact_reminders_order", "order_id", "shop_id"),
)
# Quality inspection (质检): what the rules found in an agent's reply, at ingest — the rules
# read the text, the fact keeps only the finding (no text, so no personal data).
fact_quality_violations = Table(
    "fact_quality_violations",
    metadata,
    Column("message_id", ID, nullable=False),
    Column("rule_id", String(100), nullable=False),
    Column("span_start", Integer, nullable=False),
    Column("span_end", Integer, nullable=False),
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("agent_id", ID, nullable=False),
    Column("category", String(40), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("suggestion", String(200), nullable=False),
    Column("rules_version", String(100), nullable=False),
    _ts("sent_at"),
    PrimaryKeyConstraint("message_id", "rule_id", "span_start"),
    Index("ix_fact_quality_violations_conversation", "conversation_id", "shop_id"),
)
# Buyer messages presale flagged (cs.message.classified.v1 with risk_flags): agents' exposure.
fact_risk_messages = Table(
    "fact_risk_messages",
    metadata,
    Column("message_id", ID, primary_key=True),
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("scam_attempt", Boolean, nullable=False),
    Column("abuse", Boolean, nullable=False),
    Column("threat", Boolean, nullable=False),
    _ts("sent_at"),
    Index("ix_fact_risk_messages_conversation", "conversation_id", "shop_id"),
)
fact_questions = Table(
    "fact_questions",
    metadata,
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("message_id", ID, nullable=False),
    Column("item_id", ID, nullable=True),
    Column("intent", String(40), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("topic", String(60), nullable=False),
    Column("question", Boolean, nullable=False),
    Column("theme", String(20), nullable=True),
    _ts("sent_at"),
    Column("event_source", ID, nullable=False),  # ce_source: with ce_id, the identity
    PrimaryKeyConstraint("event_id", "event_source"),
    Index("ix_fact_questions_shop_sent", "shop_id", "sent_at"),
    Index("ix_fact_questions_message", "message_id"),
)
"""Every classified buyer message as labels (`handlers/questions.py`): hot questions, complaints."""
fact_handoffs = Table(
    "fact_handoffs",
    metadata,
    Column("reply_request_id", ID, primary_key=True),
    Column("event_id", ID, nullable=False),
    Column("shop_id", ID, nullable=False),
    Column("message_id", ID, nullable=False),
    _ts("requested_at"),
    Index("ix_fact_handoffs_message", "message_id"),
)
"""Presale's hand-off notices: the buyer message (`message_id`) that went to a human."""

FACTS = (
    fact_messages,
    fact_assignments,
    fact_csat,
    fact_order_events,
    fact_refund_events,
    fact_refund_decisions,
    fact_reminders,
    fact_quality_violations,
    fact_risk_messages,
    fact_questions,
    fact_handoffs,
)
