"""Open rounds: buyers waiting for an answer right now (the live view and the gauges), and the
hours whose rounds are still undecided (snapshots look at them again)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.kpis import RESPONSE_TARGET_US
from services.metrics.store import tables


@dataclass(frozen=True)
class Waiting:
    buyers_waiting: int
    rounds_past_3min: int
    oldest_wait_s: float | None


async def waiting_now(
    conn: AsyncConnection, now: datetime, gap: timedelta, shop_id: str | None = None
) -> dict[str, Waiting]:
    """Open rounds whose session has not ended: buyers waiting for an answer right now."""
    r = tables.conv_rounds
    waited = now - r.c.opened_at
    q = (
        select(
            r.c.shop_id,
            func.count(r.c.conversation_id.distinct()).label("buyers"),
            func.count().filter(waited > timedelta(microseconds=RESPONSE_TARGET_US)).label("late"),
            func.min(r.c.opened_at).label("oldest"),
        )
        .where(~r.c.answered, r.c.session_last_at + gap > now, r.c.opened_at <= now)
        .group_by(r.c.shop_id)
    )
    if shop_id is not None:
        q = q.where(r.c.shop_id == shop_id)
    out: dict[str, Waiting] = defaultdict(lambda: Waiting(0, 0, None))
    for row in (await conn.execute(q)).all():
        out[row.shop_id] = Waiting(row.buyers, row.late, (now - row.oldest).total_seconds())
    return out


async def pending_rounds_last_at(
    conn: AsyncConnection, shop_id: str, hours: set[datetime], now: datetime, gap: timedelta
) -> dict[datetime, datetime]:
    """Per hour: the latest session end among its rounds still waiting (not yet unanswered)."""
    r = tables.conv_rounds
    hour = func.date_trunc("hour", r.c.opened_at, "UTC")
    rows = (
        await conn.execute(
            select(hour.label("hour"), func.max(r.c.session_last_at).label("last"))
            .where(
                r.c.shop_id == shop_id,
                r.c.opened_at >= min(hours),
                r.c.opened_at < max(hours) + timedelta(hours=1),
                ~r.c.answered,
                r.c.session_last_at + gap > now,
            )
            .group_by(hour)
        )
    ).all()
    return {row.hour: row.last for row in rows if row.hour in hours}
