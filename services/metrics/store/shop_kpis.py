"""Shop-wide KPI totals of a window (messages, sessions, hand-offs, paid orders, refunds),
counted in SQL over the facts and derived tables; `domain.kpis.shop_kpis` gives the ratios."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.kpis import ShopTotals
from services.metrics.store import tables


async def shop_totals(
    conn: AsyncConnection, shop_id: str, start: datetime, end: datetime
) -> ShopTotals:
    def count(table: Any, when: Any, *extra: Any) -> Any:
        return (
            select(func.count())
            .select_from(table)
            .where(table.c.shop_id == shop_id, when >= start, when < end, *extra)
            .scalar_subquery()
        )

    m, a, se, o, rf = (
        tables.fact_messages,
        tables.fact_assignments,
        tables.conv_sessions,
        tables.orders,
        tables.refunds,
    )
    duration = (
        select(func.avg(func.extract("epoch", rf.c.finished_at - rf.c.requested_at) * 1_000_000))
        .where(
            rf.c.shop_id == shop_id,
            rf.c.finished_at >= start,
            rf.c.finished_at < end,
            rf.c.requested_at.is_not(None),
        )
        .scalar_subquery()
    )
    row = (
        await conn.execute(
            select(
                count(m, m.c.sent_at, m.c.direction == "in").label("buyer_messages"),
                count(se, se.c.session_start).label("sessions"),
                count(a, a.c.assigned_at).label("handoffs"),
                count(o, o.c.paid_at).label("orders_paid"),
                count(rf, rf.c.requested_at).label("refund_requests"),
                count(rf, rf.c.succeeded_at).label("refunds_succeeded"),
                count(rf, rf.c.requested_at, rf.c.disputed).label("disputed"),
                duration.label("duration"),
            )
        )
    ).one()
    return ShopTotals(
        buyer_messages=row.buyer_messages,
        sessions=row.sessions,
        handoffs=row.handoffs,
        orders_paid=row.orders_paid,
        refund_requests=row.refund_requests,
        refunds_succeeded=row.refunds_succeeded,
        disputed_requests=row.disputed,
        refund_duration_avg_us=float(row.duration) if row.duration is not None else None,
    )
