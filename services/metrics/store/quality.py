"""Quality and exposure totals per agent in a window, added up in SQL (shop + time index)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.quality.kpis import QualityTotals
from services.metrics.store import tables


async def quality_totals(
    conn: AsyncConnection, shop_id: str, start: datetime, end: datetime
) -> dict[str, QualityTotals]:
    """Per agent: replies inspected (by send time), flags by category (by the flagged
    reply's time), session scores (by session start), exposures (by the buyer message's time)."""
    out: dict[str, QualityTotals] = {}

    def of(agent: str) -> QualityTotals:
        return out.setdefault(agent, QualityTotals(agent))

    fm = tables.fact_messages
    for r in await conn.execute(
        select(fm.c.responder, func.count())
        .where(
            fm.c.shop_id == shop_id,
            fm.c.sent_at >= start,
            fm.c.sent_at < end,
            fm.c.sender_kind == "agent",
        )
        .group_by(fm.c.responder)
    ):
        of(r[0]).inspected = r[1]
    qf = tables.quality_flags
    for r in await conn.execute(
        select(qf.c.agent_id, qf.c.category, func.count())
        .where(qf.c.shop_id == shop_id, qf.c.at >= start, qf.c.at < end)
        .group_by(qf.c.agent_id, qf.c.category)
    ):
        of(r[0]).flags[r[1]] = r[2]
    qs = tables.quality_scores
    for r in await conn.execute(
        select(
            qs.c.agent_id, func.count(), func.sum(qs.c.score), func.sum(cast(qs.c.failed, Integer))
        )
        .where(qs.c.shop_id == shop_id, qs.c.session_start >= start, qs.c.session_start < end)
        .group_by(qs.c.agent_id)
    ):
        t = of(r[0])
        t.sessions, t.score_sum, t.failed = r[1], int(r[2] or 0), int(r[3] or 0)
    for agent, _, flag, n in await exposure_rows(conn, shop_id, start, end, None):
        t = of(agent)
        t.exposure[flag] = t.exposure.get(flag, 0) + n
    return out


async def exposure_rows(
    conn: AsyncConnection, shop_id: str, start: datetime, end: datetime, timezone: str | None
) -> Iterable[tuple[str, date | None, str, int]]:
    """(agent, day in `timezone` or None, flag, count) of agents' exposures to risky buyers."""
    e = tables.risk_exposures
    day: Any = (
        func.date(func.timezone(timezone, e.c.at)) if timezone else literal(None, Integer)
    ).label("day")
    rows = await conn.execute(
        select(e.c.agent_id, day, e.c.flag, func.count())
        .where(e.c.shop_id == shop_id, e.c.at >= start, e.c.at < end)
        .group_by(e.c.agent_id, day, e.c.flag)
        .order_by(day, e.c.agent_id, e.c.flag)
    )
    return [(r[0], r[1] if timezone else None, r[2], r[3]) for r in rows]


@dataclass(frozen=True)
class RecentFlag:
    flag_id: str
    conversation_id: str
    agent_id: str
    message_id: str | None
    category: str
    rule_id: str
    severity: str
    span_start: int | None
    span_end: int | None
    suggestion: str
    response_us: int | None
    at: datetime


async def recent_flags(
    conn: AsyncConnection, shop_id: str, start: datetime, end: datetime, limit: int
) -> list[RecentFlag]:
    """The latest flags of a window, newest first."""
    qf = tables.quality_flags
    result = await conn.execute(
        select(*(qf.c[f.name] for f in fields(RecentFlag)))
        .where(qf.c.shop_id == shop_id, qf.c.at >= start, qf.c.at < end)
        .order_by(qf.c.at.desc(), qf.c.flag_id)
        .limit(limit)
    )
    return [RecentFlag(*r) for r in result.all()]
