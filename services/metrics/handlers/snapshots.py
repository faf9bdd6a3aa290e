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

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.metrics.store import kpis as queries

from services.metrics.store import tables as store
from services.metrics.domain.kpis import ResponderTotals, responder_kpis
from services.metrics.domain.model import UNASSIGNED
from services.metrics.handlers.projection import HOUR, Cell
from shared.clock import Clock
from shared.context import Context, Plumbing
from shared.contracts import KpiSnapshot
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
        k = store.kpi_snapshots
        stored = {
            (r.agent_id, r.hour_start): r
            for r in (
                await ctx.conn.execute(
                    select(k).where(k.c.shop_id == shop, k.c.hour_start.in_(sorted(hours)))
                )
            ).all()
        }
        cells = {key for key in totals if key[1] in hours} | set(stored)
        rows: list[dict[str, Any]] = []
        for agent, hour in sorted(cells, key=lambda c: (c[1], c[0])):
            if agent == UNASSIGNED or hour is None:
                continue
            kpis = _kpis(totals.get((agent, hour)) or ResponderTotals(agent))
            previous = stored.get((agent, hour))
            if previous is not None and previous.kpis == kpis:
                continue
            revision = previous.revision + 1 if previous is not None else 1
            rows.append(
                {
                    "shop_id": shop, "agent_id": agent, "hour_start": hour,
                    "revision": revision, "kpis": kpis, "computed_at": now,
                }
            )  # fmt: skip
            payload = KpiSnapshot(
                shop_id=shop, agent_id=agent, hour_start=hour, revision=revision, kpis=kpis,
                computed_at=now,
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


def _kpis(t: ResponderTotals) -> dict[str, Any]:
    out = responder_kpis(t)
    del out["agent_id"]
    return out
