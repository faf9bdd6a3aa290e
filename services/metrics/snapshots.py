"""`cs.kpi.snapshot.v1`: each agent's (and the bot's) KPIs per UTC hour, revised when they change.

Ingest only marks the hours whose figures may have changed (`snapshot_due`, due at once for
an hour that is over, else at hour end + SESSION_GAP, when its last open round is decided).
`Snapshotter.run_once` then takes due hours (FOR UPDATE SKIP LOCKED: one replica each),
recomputes them, and compares each agent-hour with its last published snapshot: a change
publishes revision + 1 through the outbox, in the same transaction; no change publishes
nothing, so re-running the same events is a no-op. Event ids are derived from (shop, agent,
hour, revision): consumers can dedupe on `ce_id`. Marking instead of recomputing in the
batch keeps ingest fast when a burst of late events touches many hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.metrics import queries, store
from services.metrics.domain.kpis import ResponderTotals, responder_kpis
from services.metrics.domain.model import UNASSIGNED
from services.metrics.projection import HOUR, Cell, hour_of
from shared.clock import Clock
from shared.context import Context, Plumbing
from shared.contracts import KpiSnapshot, SnapshotQuality
from shared.ids import derived_id
from shared.observability import BUSINESS

log = logging.getLogger(__name__)


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
    d = store.snapshot_due
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


class Snapshotter:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        clock: Clock,
        plumbing: Plumbing,
        session_gap: timedelta,
        *,
        on_committed: Callable[[], None] | None = None,
        batch_hours: int = 200,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._plumbing = plumbing
        self.gap = session_gap
        self._on_committed = on_committed
        self._batch = batch_hours

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                while await self.run_once() == self._batch:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("snapshot run failed; retrying")
            await asyncio.sleep(interval_s)

    async def run_once(self) -> int:
        """Recompute due hours; return how many were taken."""
        d = store.snapshot_due
        now = self._clock.now()
        async with self._engine().begin() as conn:
            due = (
                await conn.execute(
                    select(d.c.shop_id, d.c.hour_start)
                    .where(d.c.due_at <= now)
                    .order_by(d.c.due_at)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not due:
                return 0
            await conn.execute(
                delete(d).where(tuple_(d.c.shop_id, d.c.hour_start).in_([tuple(r) for r in due]))
            )
            ctx = Context(conn, self._clock, self._plumbing)
            by_shop: dict[str, set[datetime]] = defaultdict(set)
            for shop, hour in due:
                by_shop[shop].add(hour)
            for shop, hours in by_shop.items():
                await self.refresh(ctx, shop, hours)
            await ctx.flush()
        if self._on_committed:
            self._on_committed()
        return len(due)

    async def refresh(self, ctx: Context, shop: str, hours: set[datetime]) -> None:
        """Compare each agent-hour with its last snapshot; publish a revision if it changed."""
        now = ctx.now()
        window = queries.Window(
            shop, min(hours), max(hours) + HOUR, now, self.gap, bucket="hour", timezone="UTC"
        )
        totals = await queries.responder_totals(ctx.conn, window)
        quality = await quality_by_hour(ctx.conn, shop, hours)
        k = store.kpi_snapshots
        stored = {
            (r.agent_id, r.hour_start): r
            for r in (
                await ctx.conn.execute(
                    select(k).where(k.c.shop_id == shop, k.c.hour_start.in_(sorted(hours)))
                )
            ).all()
        }
        cells = {key for key in totals if key[1] in hours} | set(quality) | set(stored)
        rows: list[dict[str, Any]] = []
        for agent, hour in sorted(cells, key=lambda c: (c[1], c[0])):
            if agent == UNASSIGNED or hour is None:
                continue
            kpis = _kpis(totals.get((agent, hour)) or ResponderTotals(agent))
            q = quality.get((agent, hour))
            # stored as one document: the KPIs, and the quality under "quality" when there is any
            kept = {**kpis, "quality": q.model_dump(mode="json")} if q is not None else kpis
            previous = stored.get((agent, hour))
            if previous is not None and previous.kpis == kept:
                continue
            revision = previous.revision + 1 if previous is not None else 1
            rows.append(
                {
                    "shop_id": shop, "agent_id": agent, "hour_start": hour,
                    "revision": revision, "kpis": kept, "computed_at": now,
                }
            )  # fmt: skip
            payload = KpiSnapshot(
                shop_id=shop, agent_id=agent, hour_start=hour, revision=revision, kpis=kpis,
                computed_at=now, quality=q,
            )  # fmt: skip
            ctx.emit(payload, event_id=derived_id(shop, agent, hour.isoformat(), str(revision)))
        if rows:
            stmt = insert(k)
            await ctx.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["shop_id", "agent_id", "hour_start"],
                    set_={
                        "revision": stmt.excluded.revision,
                        "kpis": stmt.excluded.kpis,
                        "computed_at": stmt.excluded.computed_at,
                    },
                ),
                rows,
            )
            BUSINESS.labels("metrics", "kpi_snapshot").inc(len(rows))
        pending = await queries.pending_rounds_last_at(ctx.conn, shop, hours, now, self.gap)
        if pending:  # a buyer still waits: look again when that session ends
            await ctx.conn.execute(
                insert(store.snapshot_due)
                .values(
                    [
                        {"shop_id": shop, "hour_start": h, "due_at": last + self.gap}
                        for h, last in sorted(pending.items())
                    ]
                )
                .on_conflict_do_nothing()
            )


async def quality_by_hour(
    conn: AsyncConnection, shop: str, hours: set[datetime]
) -> dict[tuple[str, datetime], SnapshotQuality]:
    """Each agent's quality inspection per hour, from the sessions that started in it: replies
    inspected, flags by category, mean score and failed sessions (`quality_scores` has one row
    per agent and session, `quality_flags` the session each flag belongs to). By session start,
    as the hours the ingest marks for the agent's sessions are."""
    start, end = min(hours), max(hours) + HOUR
    qs, qf = store.quality_scores, store.quality_flags
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


def _kpis(t: ResponderTotals) -> dict[str, Any]:
    out = responder_kpis(t)
    del out["agent_id"]
    return out
