"""Refund decisions whose reason the shop's policy did not recognise (`fact_refund_decisions`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.store.fact_tables import fact_refund_decisions


@dataclass(frozen=True)
class ReasonCounts:
    decisions: int
    unrecognised: int
    unrecognised_texts: list[tuple[str, int]]  # (masked reason text, decisions), most first


async def refund_reasons(
    conn: AsyncConnection, shop_id: str, start: datetime, end: datetime, max_texts: int
) -> ReasonCounts:
    t = fact_refund_decisions
    in_window = and_(t.c.shop_id == shop_id, t.c.decided_at >= start, t.c.decided_at < end)
    totals = (
        await conn.execute(
            select(
                func.count(),
                func.count().filter(t.c.recognised == false()),
            ).where(in_window)
        )
    ).one()
    texts = (
        await conn.execute(
            select(t.c.refund_reason, func.count().label("n"))
            .where(in_window, t.c.recognised == false(), t.c.refund_reason.is_not(None))
            .group_by(t.c.refund_reason)
            .order_by(func.count().desc(), t.c.refund_reason)
            .limit(max_texts)
        )
    ).all()
    return ReasonCounts(totals[0], totals[1], [(r, n) for r, n in texts])
