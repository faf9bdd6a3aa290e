"""Orders (their latest state) and item categories (learned from refund requests)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.book import CategoryKey
from services.aftersale.domain.model import BuyerKey, Order
from services.aftersale.store.tables import item_categories, orders
from shared.bulk import BulkInsert, upsert
from shared.sql_arrays import among, pairs_among


async def load_orders(
    conn: AsyncConnection,
    order_ids: Collection[str],
    buyers: Collection[BuyerKey],
    *,
    lock: bool,
) -> dict[str, Order]:
    """These orders and every order of these buyers; `lock`ed in id order when some will be
    written (order changes): a reader (a timer, a refund) never waits on them."""
    ids = []  # two index lookups (an OR of them would scan the table)
    if order_ids:
        ids.append(select(orders.c.order_id).where(among(orders.c.order_id, order_ids)))
    if buyers:
        ids.append(
            select(orders.c.order_id).where(
                pairs_among(orders.c.shop_id, orders.c.buyer_id, buyers)
            )
        )
    if not ids:
        return {}
    wanted = ids[0] if len(ids) == 1 else union(*ids)
    stmt = select(orders).where(orders.c.order_id.in_(wanted)).order_by(orders.c.order_id)
    rows = await conn.execute(stmt.with_for_update() if lock else stmt)
    return {r.order_id: _order(r) for r in rows}


def _order(r: Row[Any]) -> Order:
    return Order(
        r.order_id, r.shop_id, r.buyer_id, r.status, r.total_fee, tuple(r.item_ids),
        r.created_at, r.changed_at, r.consign_time, r.signed_at,
    )  # fmt: skip


_ORDER_COLUMNS = [
    "order_id", "shop_id", "buyer_id", "status", "total_fee", "item_ids", "consign_time",
    "signed_at", "created_at", "changed_at",
]  # fmt: skip
_order_values = attrgetter(*_ORDER_COLUMNS)
_SAVE_ORDERS = BulkInsert(
    orders,
    _ORDER_COLUMNS,
    on_conflict=upsert(
        ["order_id"],
        ["status", "total_fee", "item_ids", "consign_time", "signed_at", "changed_at"],
        where="orders.changed_at <= EXCLUDED.changed_at",
    ),
)
_SAVE_CATEGORIES = BulkInsert(
    item_categories,
    ["shop_id", "item_id", "category"],
    on_conflict=upsert(["shop_id", "item_id"], ["category"]),
)
"""Fixed statements over column arrays (`shared.bulk`; item ids as an array column)."""


async def save_orders(conn: AsyncConnection, changed: Sequence[Order]) -> None:
    """Insert or update these orders; an older change never overwrites a newer one (the rows
    were locked, this only guards a writer that did not lock them)."""
    if changed:
        await _SAVE_ORDERS.execute(conn, [_order_values(o) for o in changed])


async def categories(
    conn: AsyncConnection, keys: Collection[CategoryKey]
) -> dict[CategoryKey, str]:
    if not keys:
        return {}
    c = item_categories
    rows = await conn.execute(
        select(c.c.shop_id, c.c.item_id, c.c.category).where(
            pairs_among(c.c.shop_id, c.c.item_id, keys)
        )
    )
    return {(r.shop_id, r.item_id): r.category for r in rows}


async def save_categories(conn: AsyncConnection, changed: Mapping[CategoryKey, str]) -> None:
    if changed:
        await _SAVE_CATEGORIES.execute(
            conn, [(shop, item, category) for (shop, item), category in sorted(changed.items())]
        )
