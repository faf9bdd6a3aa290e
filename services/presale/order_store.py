"""Presale's projection of `trade.order.changed.v1`: each buyer's latest order per shop, and
since when each shop's orders have been followed (schema `presale`). One statement per table
per batch."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import (
    ARRAY,
    Column,
    DateTime,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.buyer_context import BuyerKey, LatestOrder, OrderBook
from services.presale.store import metadata

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


async def load(conn: AsyncConnection, buyers: Collection[BuyerKey], window: timedelta) -> OrderBook:
    """The latest orders of these buyers and when their shops' orders began to be followed
    (not locked: saving only ever moves a row forward in time)."""
    book = OrderBook(window=window)
    if not buyers:
        return book
    pairs = sorted(set(buyers))
    shops = sorted({shop for shop, _ in pairs})
    keys = (
        func.unnest(
            bindparam(None, [shop for shop, _ in pairs], type_=ARRAY(Text)),
            bindparam(None, [buyer for _, buyer in pairs], type_=ARRAY(Text)),
        )
        .table_valued("shop_id", "buyer_id")
        .render_derived()
    )  # one plan for any batch size
    t = buyer_orders
    rows = await conn.execute(
        select(t).join(keys, and_(t.c.shop_id == keys.c.shop_id, t.c.buyer_id == keys.c.buyer_id))
    )
    for r in rows:
        book.latest[(r.shop_id, r.buyer_id)] = LatestOrder(r.order_id, r.status, r.changed_at)
    feeds = await conn.execute(
        select(order_feed).where(
            order_feed.c.shop_id == any_(bindparam(None, shops, type_=ARRAY(Text)))
        )
    )
    book.followed_since.update({r.shop_id: r.followed_since for r in feeds})
    return book


async def save(conn: AsyncConnection, book: OrderBook) -> None:
    """Upsert the changed rows (a row only ever moves forward in time, whatever another
    replica wrote meanwhile) and start following new shops, one statement each."""
    if book.changed:
        rows = [
            {"shop_id": shop, "buyer_id": buyer, "order_id": o.order_id, "status": o.status,
             "changed_at": o.changed_at}
            for (shop, buyer) in sorted(book.changed)
            for o in (book.latest[(shop, buyer)],)
        ]  # fmt: skip
        stmt = insert(buyer_orders)
        stmt = stmt.on_conflict_do_update(
            constraint="pk_buyer_orders",
            set_={
                "order_id": stmt.excluded.order_id,
                "status": stmt.excluded.status,
                "changed_at": stmt.excluded.changed_at,
            },
            where=buyer_orders.c.changed_at < stmt.excluded.changed_at,
        )
        await conn.execute(stmt, rows)
    if book.new_shops:
        await conn.execute(
            insert(order_feed).on_conflict_do_nothing(index_elements=["shop_id"]),
            [
                {"shop_id": shop, "followed_since": book.followed_since[shop]}
                for shop in sorted(book.new_shops)
            ],
        )


async def prune(conn: AsyncConnection, changed_before: datetime) -> None:
    """Forget latest orders unchanged since before the window: they no longer tell a phase."""
    await conn.execute(delete(buyer_orders).where(buyer_orders.c.changed_at < changed_before))
