"""Buyers' latest orders: presale's projection of `trade.order.changed.v1` — each buyer's
latest order per shop, and since when each shop's orders have been followed — loaded and saved
as a `domain.buyer_context.OrderBook`. One statement per table per batch."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, Text, and_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.buyer_context import BuyerKey, LatestOrder, OrderBook
from services.presale.store.tables import buyer_orders, order_feed
from shared.sql_arrays import among


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
    feeds = await conn.execute(select(order_feed).where(among(order_feed.c.shop_id, shops)))
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
