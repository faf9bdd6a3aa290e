"""Presale's schema (`presale`): the tables every store module reads and writes, and
`metadata` for the migrations and the runtime."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Column,
    DateTime,
    Float,
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

agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("skills", ARRAY(String(20)), nullable=False),
    Column("max_concurrent", Integer, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("assigned_total", Integer, nullable=False, server_default="0"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", String(200), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("buyer_level", String(20), nullable=True),
    Column("state", String(20), nullable=False),  # bot | queued | assigned | closed
    Column("agent_id", String(100), nullable=True, index=True),
    Column("skill", String(20), nullable=True),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("reason", String(200), nullable=True),
    Column("queued_at", DateTime(timezone=True), nullable=True),
    Column("last_activity_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_agent_id", String(100), nullable=True),
    Column("recent_texts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("memory", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("stage", String(20), nullable=True),
    Index("ix_conversations_queue", "shop_id", "state", "priority", "queued_at"),
)
"""One per buyer–shop pair; `state`: bot | queued | assigned | closed. `recent_texts` holds the
last few buyer texts, masked; `memory` what the bot remembers (`answers.Memory`); `stage` the
conversation's stage so far, for the classifier (`domain.buyer_context`)."""

kb_versions = Table(
    "kb_versions",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("change", Text, nullable=False),
    Column("author", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("shop_id", "version", name="pk_kb_versions"),
)
"""Every KB change stores the whole document as a new version; the highest one is current."""

kb_gaps = Table(
    "kb_gaps",
    metadata,
    Column("message_id", String(200), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("conversation_id", String(200), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("item_id", String(100), nullable=True),
    Column("intent", String(40), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("entities", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("text_masked", Text, nullable=False),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("answer_masked", Text, nullable=True),
    Column("answered_by", String(100), nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Index("ix_kb_gaps_conversation", "conversation_id", "asked_at"),
    Index("ix_kb_gaps_shop_asked", "shop_id", "asked_at"),
)
"""Buyer questions the bot did not answer (`reason`: the hand-off's, or `with_agent` when a human
had the conversation), masked, with the agent's reply that followed; kept
PRESALE_GAP_RETENTION_DAYS (`services.presale.handlers.insight`)."""

kb_suggestions = Table(
    "kb_suggestions",
    metadata,
    Column("suggestion_id", String(40), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # pending | accepted | rejected
    Column("rank", Integer, nullable=False),
    Column("draft", JSONB, nullable=False),
    Column("variants", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("kb_version", Integer, nullable=True),
    Index("ix_kb_suggestions_shop_status", "shop_id", "status", "rank"),
)
"""Drafted KB entries to review; a rejected one's `variants` keep its group from coming back."""

buyer_orders = Table(
    "buyer_orders",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("status", String(40), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, index=True),
    PrimaryKeyConstraint("shop_id", "buyer_id", name="pk_buyer_orders"),
)
"""The latest order (by `changed_at`) of each buyer of each shop; older ones are pruned."""

order_feed = Table(
    "order_feed",
    metadata,
    Column("shop_id", String(100), primary_key=True),
    Column("followed_since", DateTime(timezone=True), nullable=False),
)
"""When presale first heard of an order of the shop: before a whole window has passed, a
buyer without a row may still have an order presale never heard of."""
