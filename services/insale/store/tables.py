"""Insale's tables (schema `insale`): the order projection and buyers' conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import new_metadata
from shared.plumbing import plumbing_tables

metadata = new_metadata()
inbox, outbox, timers = plumbing_tables(metadata)


def _ts(name: str) -> Column[Any]:
    return Column(name, DateTime(timezone=True), nullable=True)


orders = Table(
    "orders",
    metadata,
    Column("order_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=True),
    Column("status", String(40), nullable=True),
    _ts("status_changed_at"),
    Column("total_fee", BigInteger, nullable=False, server_default="0"),  # fen
    Column("items", JSONB, nullable=False, server_default="[]"),
    _ts("created_at"),
    _ts("paid_at"),
    _ts("consign_time"),
    _ts("signed_at"),
    _ts("pay_deadline"),
    _ts("promised_ship_by"),
    Column("logistics_company", String(100), nullable=True),
    Column("tracking_no", String(100), nullable=True),
    Column("receiver_region", String(200), nullable=True),
    Column("last_tracking_status", String(20), nullable=True),
    _ts("last_tracking_at"),
    Column("last_tracking_text", String(500), nullable=True),
    Column("reminder_key", String(300), nullable=True),
    Column("reminders_sent", Integer, nullable=False, server_default="0"),
    Column("ship_watch_key", String(300), nullable=True),
    Column("ship_risk_alerted", Boolean, nullable=False, server_default="false"),
    Column("ship_missed_alerted", Boolean, nullable=False, server_default="false"),
    Column("shipped_notified", Boolean, nullable=False, server_default="false"),
    Column("stalls_reported", Integer, nullable=False, server_default="0"),
    Column("stalled", Boolean, nullable=False, server_default="false"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_orders_shop_buyer", "shop_id", "buyer_id", "created_at"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("shop_id", String(100), primary_key=True),
    Column("buyer_id", String(200), primary_key=True),
    Column("conversation_id", String(200), nullable=False),
    Column("last_message_at", DateTime(timezone=True), nullable=False),
)
