"""Aftersale's tables (schema `aftersale`).

Nothing here stores what buyers typed: cases keep the platform's reason text and the
decisions; the risk profile keeps counts and matched keywords against the pseudonymous id.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import new_metadata
from shared.plumbing import plumbing_tables

metadata = new_metadata()
inbox, outbox, timers = plumbing_tables(metadata)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("status", String(40), nullable=False),
    Column("total_fee", BigInteger, nullable=False),
    Column("item_ids", ARRAY(String(100)), nullable=False),
    Column("consign_time", DateTime(timezone=True), nullable=True),
    Column("signed_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_orders_shop_buyer", "shop_id", "buyer_id", "created_at"),
)

item_categories = Table(
    "item_categories",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("item_id", String(100), nullable=False),
    Column("category", String(100), nullable=False),
    PrimaryKeyConstraint("shop_id", "item_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("state", String(20), nullable=False),  # open | resolved
    Column("order_id", String(100), nullable=False, index=True),
    Column("buyer_id", String(200), nullable=False),
    Column("refund_id", String(100), nullable=True, unique=True),
    Column("review_id", String(100), nullable=True, unique=True),
    Column("reason", String(200), nullable=True),
    Column("refund_phase", String(20), nullable=True),
    Column("good_status", String(30), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=True),
    Column("refund_fee", BigInteger, nullable=True),
    Column("order_total_fee", BigInteger, nullable=True),
    Column("has_good_return", Boolean, nullable=True),
    Column("item_category", String(100), nullable=True),
    Column("refund_status", String(40), nullable=True),
    Column("cs_status", Integer, nullable=True),
    Column("status_changed_at", DateTime(timezone=True), nullable=True),
    Column("deadline", DateTime(timezone=True), nullable=True),
    Column("decision", String(20), nullable=True),
    Column("rule_id", String(100), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("risk_score", Integer, nullable=True),
    Column("risk_level", String(10), nullable=True),
    Column("risk_reasons", JSONB, nullable=True),
    Column("handed_off_at", DateTime(timezone=True), nullable=True),
    Column("handed_off_for", DateTime(timezone=True), nullable=True),
    Column("alerted_for", DateTime(timezone=True), nullable=True),
    Column("dispute_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_cases_shop_opened", "shop_id", "opened_at"),
    Index("ix_cases_resolved_at", "resolved_at", postgresql_where=text("resolved_at IS NOT NULL")),
)

case_history = Table(
    "case_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", String(100), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", String(40), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
)

buyer_signals = Table(
    "buyer_signals",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("kind", String(30), nullable=False),  # refund | not_received_signed | threat
    Column("ref_id", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", String(100), nullable=False, server_default=""),
    PrimaryKeyConstraint("shop_id", "buyer_id", "kind", "ref_id"),
)

early_refund_changes = Table(
    "early_refund_changes",
    metadata,
    Column("refund_id", String(100), primary_key=True),
    Column("status", String(40), nullable=False),
    Column("cs_status", Integer, nullable=False),
    Column("timeout", DateTime(timezone=True), nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_early_refund_changes_changed_at", "changed_at"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("result", String(10), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Index("ix_reviews_shop_result", "shop_id", "result"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("conversation_id", String(200), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_id", "buyer_id"),
)
