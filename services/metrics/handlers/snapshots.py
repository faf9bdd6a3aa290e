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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.domain.hours import HOUR
from services.metrics.domain.kpis import ResponderTotals, responder_kpis
from services.metrics.domain.model import UNASSIGNED
from services.metrics.store import kpis as queries
from services.metrics.store import open_rounds
from services.metrics.store import snapshots as store
from shared.clock import Clock
from shared.context import Context, Plumbing
from shared.contracts import KpiSnapshot
from shared.ids import derived_id
from shared.observability import BUSINESS

log = logging.getLogger(__name__)


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
        now = self._clock.now()
        async with self._engine().begin() as conn:
            due = await store.take_due(conn, now, self._batch)
            if not due:
                return 0
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
        quality = await store.quality_by_hour(ctx.conn, shop, hours)
        stored = await store.published(ctx.conn, shop, hours)
        cells = {key for key in totals if key[1] in hours} | set(quality) | set(stored)
        rows: list[store.Snapshot] = []
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
            rows.append(store.Snapshot(shop, agent, hour, revision, kept, now))
            payload = KpiSnapshot(
                shop_id=shop, agent_id=agent, hour_start=hour, revision=revision, kpis=kpis,
                computed_at=now, quality=q,
            )  # fmt: skip
            ctx.emit(payload, event_id=derived_id(shop, agent, hour.isoformat(), str(revision)))
        if rows:
            await store.save(ctx.conn, rows)
            BUSINESS.labels("metrics", "kpi_snapshot").inc(len(rows))
        pending = await open_rounds.pending_rounds_last_at(ctx.conn, shop, hours, now, self.gap)
        # a buyer still waits: look again when that session ends
        await store.mark_due(ctx.conn, shop, {h: last + self.gap for h, last in pending.items()})


def _kpis(t: ResponderTotals) -> dict[str, Any]:
    out = responder_kpis(t)
    del out["agent_id"]
    return out
