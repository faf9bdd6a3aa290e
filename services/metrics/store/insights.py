"""What the weekly insights add up (`fact_questions`, `fact_handoffs`, `fact_refund_decisions`):
this week's and last week's questions, hand-offs, complaints and refund reasons of a shop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.store import fact_tables as t


@dataclass(frozen=True)
class TwoWeeks:
    asked: list[tuple[str | None, str, bool, int, int]]
    """(item, topic, this week?, questions, of those handed off)"""
    complained: list[tuple[str | None, str, bool, int]]
    """(item, complaint theme, this week?, messages)"""
    reasons: list[tuple[str, bool, int]]
    """(refund reason text, this week?, decisions)"""


async def two_weeks(conn: AsyncConnection, shop_id: str, start: datetime) -> TwoWeeks:
    """The counts of the week starting at `start` and of the week before."""
    prev, end = start - timedelta(days=7), start + timedelta(days=7)
    q, h = t.fact_questions, t.fact_handoffs
    handed = (
        select(h.c.message_id)
        .where(h.c.shop_id == shop_id, h.c.requested_at >= prev)
        .distinct()
        .subquery()
    )
    this = (q.c.sent_at >= start).label("this")
    window = and_(q.c.shop_id == shop_id, q.c.sent_at >= prev, q.c.sent_at < end)
    asked = (
        await conn.execute(
            select(
                q.c.item_id,
                q.c.topic,
                this,
                func.count(distinct(q.c.message_id)).label("n"),
                func.count(distinct(handed.c.message_id)).label("handed"),
            )
            .select_from(q.outerjoin(handed, handed.c.message_id == q.c.message_id))
            .where(window, q.c.question)
            .group_by(q.c.item_id, q.c.topic, this)
        )
    ).all()
    complained = (
        await conn.execute(
            select(q.c.item_id, q.c.theme, this, func.count(distinct(q.c.message_id)))
            .where(window, q.c.theme.is_not(None))
            .group_by(q.c.item_id, q.c.theme, this)
        )
    ).all()
    d = t.fact_refund_decisions
    reasons = (
        await conn.execute(
            select(d.c.refund_reason, (d.c.decided_at >= start).label("this"), func.count())
            .where(
                d.c.shop_id == shop_id,
                d.c.decided_at >= prev,
                d.c.decided_at < end,
                d.c.refund_reason.is_not(None),
            )
            .group_by(d.c.refund_reason, "this")
        )
    ).all()
    return TwoWeeks(
        [(r[0], r[1], r[2], r[3], r[4]) for r in asked],
        [(r[0], r[1], r[2], r[3]) for r in complained],
        [(r[0], r[1], r[2]) for r in reasons],
    )
