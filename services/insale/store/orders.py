"""The order projection: loaded and saved as `domain.orders.Order`, many at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Row, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.insale.domain.orders import Item, Order
from services.insale.store.tables import orders
from shared.bulk import BulkInsert, upsert
from shared.sql_arrays import among, pairs_among

_FIELDS = [f.name for f in dataclasses.fields(Order)]


_ITEMS = _FIELDS.index("items")
_values = attrgetter(*_FIELDS)


def _to_values(order: Order) -> tuple[Any, ...]:
    """The order as one tuple in `_FIELDS` order; its items as the JSON `dataclasses.asdict`
    gives, at a fraction of its cost."""
    values = list(_values(order))
    values[_ITEMS] = [
        {"item_id": i.item_id, "title": i.title, "quantity": i.quantity} for i in order.items
    ]
    return tuple(values)


def _from_row(row: Row[Any]) -> Order:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["items"] = tuple(Item(**i) for i in row.items or ())
    return Order(**values)


# Built once: building an upsert's `excluded` columns on every call costs milliseconds.
_LOCK = select(orders).where(orders.c.order_id == bindparam("order_id")).with_for_update()
_GET = select(orders).where(orders.c.order_id == bindparam("order_id"))
_UPSERT = BulkInsert(
    orders,
    _FIELDS,
    on_conflict=upsert(
        ["order_id"], [n for n in _FIELDS if n != "order_id"], extra="updated_at = now()"
    ),
)
"""One fixed statement over column arrays (`shared.bulk`), whatever the batch size."""


async def lock_order(conn: AsyncConnection, order_id: str) -> Order | None:
    """The order, locked until the transaction ends (timer firings serialize on it)."""
    row = (await conn.execute(_LOCK, {"order_id": order_id})).first()
    return _from_row(row) if row is not None else None


async def lock_orders(conn: AsyncConnection, order_ids: Collection[str]) -> dict[str, Order]:
    """The orders that exist among these ids, locked in id order (replicas locking
    overlapping sets cannot deadlock), in one statement."""
    if not order_ids:
        return {}
    rows = await conn.execute(
        select(orders)
        .where(among(orders.c.order_id, order_ids))
        .order_by(orders.c.order_id)
        .with_for_update()
    )
    return {r.order_id: _from_row(r) for r in rows}


async def get_order(conn: AsyncConnection, order_id: str) -> Order | None:
    row = (await conn.execute(_GET, {"order_id": order_id})).first()
    return _from_row(row) if row is not None else None


async def save_orders(conn: AsyncConnection, changed: Sequence[Order]) -> None:
    """Insert or overwrite the orders, one statement."""
    if changed:
        await _UPSERT.execute(conn, [_to_values(o) for o in changed])


async def save_order(conn: AsyncConnection, order: Order) -> None:
    await save_orders(conn, [order])


async def buyers_orders(
    conn: AsyncConnection,
    buyers: Collection[tuple[str, str]],
    limit: int,
    named: Collection[str] = (),
) -> tuple[dict[tuple[str, str], list[Order]], dict[str, Order]]:
    """For each `(shop_id, buyer_id)`, the buyer's `limit` most recent orders in the shop
    (newest first); and those of the `named` orders that belong to one of these buyers — in
    one statement, not locked."""
    if not buyers:
        return {}, {}
    rank = (
        func.row_number()
        .over(
            partition_by=(orders.c.shop_id, orders.c.buyer_id),
            order_by=(orders.c.created_at.desc().nulls_last(), orders.c.order_id),
        )
        .label("rank")
    )
    ranked = (
        select(orders, rank)
        .where(pairs_among(orders.c.shop_id, orders.c.buyer_id, buyers))
        .subquery()
    )
    wanted = ranked.c.rank <= limit
    if named:
        wanted = or_(wanted, among(ranked.c.order_id, named))
    rows = await conn.execute(
        select(ranked).where(wanted).order_by(ranked.c.shop_id, ranked.c.buyer_id, ranked.c.rank)
    )
    recent: dict[tuple[str, str], list[Order]] = {}
    found: dict[str, Order] = {}
    for r in rows:
        order = _from_row(r)
        if r.rank <= limit:
            recent.setdefault((r.shop_id, r.buyer_id), []).append(order)
        if r.order_id in named:
            found[r.order_id] = order
    return recent, found
