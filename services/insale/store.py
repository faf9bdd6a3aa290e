"""Insale's tables (schema `insale`): the order projection and buyers' conversations."""

from __future__ import annotations

import dataclasses
from datetime import datetime
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
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.insale.domain.orders import Item, Order
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

_FIELDS = [f.name for f in dataclasses.fields(Order)]


def _to_row(order: Order) -> dict[str, Any]:
    row = {name: getattr(order, name) for name in _FIELDS}
    row["items"] = [dataclasses.asdict(i) for i in order.items]
    return row


def _from_row(row: Any) -> Order:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["items"] = tuple(Item(**i) for i in row.items or ())
    return Order(**values)


# Built once: building an upsert's `excluded` columns on every call costs milliseconds.
_LOCK = select(orders).where(orders.c.order_id == bindparam("order_id")).with_for_update()
_GET = select(orders).where(orders.c.order_id == bindparam("order_id"))
_insert = insert(orders)
_UPSERT = _insert.on_conflict_do_update(
    index_elements=["order_id"],
    set_={
        **{
            c.name: _insert.excluded[c.name]
            for c in orders.c
            if c.name not in ("order_id", "updated_at")
        },
        "updated_at": func.now(),
    },
)


async def lock_order(conn: AsyncConnection, order_id: str) -> Order | None:
    """The order, locked until the transaction ends (handlers and timers serialize on it)."""
    row = (await conn.execute(_LOCK, {"order_id": order_id})).first()
    return _from_row(row) if row is not None else None


async def get_order(conn: AsyncConnection, order_id: str) -> Order | None:
    row = (await conn.execute(_GET, {"order_id": order_id})).first()
    return _from_row(row) if row is not None else None


async def buyer_order(
    conn: AsyncConnection, shop_id: str, buyer_id: str, order_id: str
) -> Order | None:
    """The order only if it is this buyer's in this shop (an id typed by a buyer)."""
    row = (
        await conn.execute(
            select(orders).where(
                orders.c.order_id == order_id,
                orders.c.shop_id == shop_id,
                orders.c.buyer_id == buyer_id,
            )
        )
    ).first()
    return _from_row(row) if row is not None else None


async def save_order(conn: AsyncConnection, order: Order) -> None:
    await conn.execute(_UPSERT, _to_row(order))


async def buyer_orders(
    conn: AsyncConnection, shop_id: str, buyer_id: str, limit: int
) -> list[Order]:
    """The buyer's most recent orders in the shop, newest first."""
    rows = (
        await conn.execute(
            select(orders)
            .where(orders.c.shop_id == shop_id, orders.c.buyer_id == buyer_id)
            .order_by(orders.c.created_at.desc().nulls_last(), orders.c.order_id)
            .limit(limit)
        )
    ).all()
    return [_from_row(r) for r in rows]


async def remember_conversation(
    conn: AsyncConnection, shop_id: str, buyer_id: str, conversation_id: str, at: datetime
) -> None:
    """Keep the buyer's latest conversation with the shop (system messages go there)."""
    stmt = insert(conversations).values(
        shop_id=shop_id, buyer_id=buyer_id, conversation_id=conversation_id, last_message_at=at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["shop_id", "buyer_id"],
        set_={"conversation_id": stmt.excluded.conversation_id, "last_message_at": at},
        where=conversations.c.last_message_at <= stmt.excluded.last_message_at,
    )
    await conn.execute(stmt)


async def conversation_of(conn: AsyncConnection, shop_id: str, buyer_id: str) -> str:
    """The buyer's conversation with the shop; `<shop_id>:<buyer_id>` when none is known yet.

    The fallback is the convention presale also uses for hand-offs without a conversation.
    """
    found = (
        await conn.execute(
            select(conversations.c.conversation_id).where(
                conversations.c.shop_id == shop_id, conversations.c.buyer_id == buyer_id
            )
        )
    ).scalar_one_or_none()
    return found or f"{shop_id}:{buyer_id}"
