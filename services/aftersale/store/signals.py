"""Buyer risk signals: refunds, "not received" on signed orders, threat words — counts and
keywords against the pseudonymous buyer id, never the buyer's text."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.model import BuyerKey, Signal
from services.aftersale.domain.risk import BuyerHistory, buyer_history
from services.aftersale.store.tables import buyer_signals, orders
from shared.bulk import BulkInsert
from shared.sql_arrays import pairs_among

_ADD_SIGNALS = BulkInsert(
    buyer_signals,
    ["shop_id", "buyer_id", "kind", "ref_id", "at", "detail"],
    on_conflict="DO NOTHING",
)


async def signals(
    conn: AsyncConnection, buyers: Collection[BuyerKey]
) -> dict[BuyerKey, dict[tuple[str, str], Signal]]:
    """Every signal of these buyers (risk is counted over them in the domain)."""
    if not buyers:
        return {}
    s = buyer_signals
    rows = await conn.execute(select(s).where(pairs_among(s.c.shop_id, s.c.buyer_id, buyers)))
    out: dict[BuyerKey, dict[tuple[str, str], Signal]] = {}
    for r in rows:
        signal = Signal(r.shop_id, r.buyer_id, r.kind, r.ref_id, r.at, r.detail)
        out.setdefault((r.shop_id, r.buyer_id), {})[signal.key] = signal
    return out


async def add_signals(conn: AsyncConnection, new: Sequence[Signal]) -> None:
    if new:
        await _ADD_SIGNALS.execute(
            conn, [(s.shop_id, s.buyer_id, s.kind, s.ref_id, s.at, s.detail) for s in new]
        )


async def risk_history(
    conn: AsyncConnection, shop_id: str, buyer_id: str, at: datetime
) -> BuyerHistory:
    """The buyer's risk counts as of `at` (the API's view; decisions count over a batch)."""
    found = (await signals(conn, [(shop_id, buyer_id)])).get((shop_id, buyer_id), {})
    n_orders = (
        await conn.execute(
            select(func.count())
            .select_from(orders)
            .where(orders.c.shop_id == shop_id, orders.c.buyer_id == buyer_id)
        )
    ).scalar_one()
    return buyer_history(found.values(), int(n_orders), at)
