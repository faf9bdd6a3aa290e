"""The hours due for a snapshot (`snapshot_due`) and the snapshots published (`kpi_snapshots`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.hours import HOUR, Cell, hour_of
from services.metrics.domain.model import UNASSIGNED
from services.metrics.store.derived_tables import (
    kpi_snapshots,
    quality_flags,
    quality_scores,
    snapshot_due,
)
from shared.contracts import SnapshotQuality


@dataclass(frozen=True)
class Snapshot:
    shop_id: str
    agent_id: str
    hour_start: datetime
    revision: int
    kpis: dict[str, Any]
    computed_at: datetime


async def mark_changed(
    conn: AsyncConnection, cells: Iterable[Cell], now: datetime, gap: timedelta
) -> None:
    """Remember the hours whose figures may have changed; the earliest due time wins."""
    rows = {
        (shop, hour): max(hour + HOUR + gap, now)
        for shop, responder, hour in cells
        if responder != UNASSIGNED
    }
    if not rows:
        return
    d = snapshot_due
    stmt = insert(d).values(
        [{"shop_id": s, "hour_start": h, "due_at": due} for (s, h), due in sorted(rows.items())]
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["shop_id", "hour_start"],
            set_={"due_at": stmt.excluded.due_at},
            where=stmt.excluded.due_at < d.c.due_at,
        )
    )


async def take_due(conn: AsyncConnection, now: datetime, limit: int) -> list[tuple[str, datetime]]:
    """Take (and delete) up to `limit` due (shop, hour)s, earliest first; rows another replica
    has taken are skipped (FOR UPDATE SKIP LOCKED)."""
    d = snapshot_due
    due = (
        await conn.execute(
            select(d.c.shop_id, d.c.hour_start)
            .where(d.c.due_at <= now)
            .order_by(d.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if due:
        await conn.execute(
            delete(d).where(tuple_(d.c.shop_id, d.c.hour_start).in_([tuple(r) for r in due]))
        )
    return [(shop, hour) for shop, hour in due]


async def mark_due(conn: AsyncConnection, shop: str, due: Mapping[datetime, datetime]) -> None:
    """Look at these hours again at the given times (an hour already due keeps its time)."""
    if not due:
        return
    await conn.execute(
        insert(snapshot_due)
        .values([{"shop_id": shop, "hour_start": h, "due_at": at} for h, at in sorted(due.items())])
        .on_conflict_do_nothing()
    )


async def published(
    conn: AsyncConnection, shop: str, hours: Iterable[datetime]
) -> dict[tuple[str, datetime], Snapshot]:
    """The last snapshot published per (agent, hour) of these hours."""
    k = kpi_snapshots
    rows = await conn.execute(
        select(k).where(k.c.shop_id == shop, k.c.hour_start.in_(sorted(hours)))
    )
    return {
        (r.agent_id, r.hour_start): Snapshot(
            r.shop_id, r.agent_id, r.hour_start, r.revision, r.kpis, r.computed_at
        )
        for r in rows.all()
    }


async def save(conn: AsyncConnection, snapshots: Sequence[Snapshot]) -> None:
    if not snapshots:
        return
    stmt = insert(kpi_snapshots)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["shop_id", "agent_id", "hour_start"],
            set_={
                "revision": stmt.excluded.revision,
                "kpis": stmt.excluded.kpis,
                "computed_at": stmt.excluded.computed_at,
            },
        ),
        [
            {"shop_id": s.shop_id, "agent_id": s.agent_id, "hour_start": s.hour_start,
             "revision": s.revision, "kpis": s.kpis, "computed_at": s.computed_at}
            for s in snapshots
        ],
    )  # fmt: skip


async def quality_by_hour(
    conn: AsyncConnection, shop: str, hours: set[datetime]
) -> dict[tuple[str, datetime], SnapshotQuality]:
    """Each agent's quality inspection per hour, from the sessions that started in it: replies
    inspected, flags by category, mean score and failed sessions (`quality_scores` has one row
    per agent and session, `quality_flags` the session each flag belongs to). By session start,
    as the hours the ingest marks for the agent's sessions are."""
    start, end = min(hours), max(hours) + HOUR
    qs, qf = quality_scores, quality_flags
    scored: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for agent, session_start, replies, score, failed in await conn.execute(
        select(qs.c.agent_id, qs.c.session_start, qs.c.replies, qs.c.score, qs.c.failed).where(
            qs.c.shop_id == shop, qs.c.session_start >= start, qs.c.session_start < end
        )
    ):
        if (hour := hour_of(session_start)) in hours:
            t = scored[(agent, hour)]
            t[0], t[1], t[2], t[3] = t[0] + replies, t[1] + 1, t[2] + score, t[3] + bool(failed)
    flags: dict[tuple[str, datetime], dict[str, int]] = defaultdict(dict)
    for agent, category, session_start, n in await conn.execute(
        select(qf.c.agent_id, qf.c.category, qf.c.session_start, func.count())
        .where(qf.c.shop_id == shop, qf.c.session_start >= start, qf.c.session_start < end)
        .group_by(qf.c.agent_id, qf.c.category, qf.c.session_start)
    ):
        if (hour := hour_of(session_start)) in hours:
            by_category = flags[(agent, hour)]
            by_category[category] = by_category.get(category, 0) + n
    return {
        key: SnapshotQuality(
            inspected_replies=replies,
            flags=dict(sorted(flags.get(key, {}).items())),
            scored_sessions=sessions,
            score_avg=round(score_sum / sessions, 2),
            failed_sessions=failed,
        )
        for key, (replies, sessions, score_sum, failed) in scored.items()
    }
