"""The metrics consume path: a whole batch of events in one transaction, facts in bulk.

The shared `Dispatcher` calls one handler per event; each metrics handler would then refresh
its conversation on its own, a dozen statements per event, too slow for the KPI firehose.
`FactIngest` takes the runtime's place behind the same `process(records)` call: it decodes
the batch (bad input is dead-lettered exactly as the shared path does, once per record
position through the inbox), reduces every event to a fact row (`facts.py`), inserts the
facts with one `INSERT … ON CONFLICT DO NOTHING` per table (a fact's key is its dedupe: the
fact tables are this service's inbox; an event's key is CloudEvents' source + id),
refreshes what the new facts touched once (`projection.py`) and marks the snapshot hours
that may have changed, all in one transaction. The shared runtime commits the offsets only
after it. Transient database errors are retried with backoff, for ever, like the shared
path. Any other failure (a fact the database rejects, a recomputation that raises) is
bisected as the shared path does: each half of the batch is ingested on its own, down to
the one record that fails alone, which is dead-lettered with the reason; every other record
is ingested.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.handlers.facts import Fact, facts_of
from services.metrics.handlers.projection import Projector, flagged_event
from services.metrics.quality.rulebook import RuleBook
from services.metrics.store import fact_tables as tables
from services.metrics.store.snapshots import mark_changed
from shared import inbox
from shared.clock import Clock
from shared.consumer import RawRecord, consumer_now, dead_letter, decode_record, position_id
from shared.context import Context, Plumbing
from shared.observability import BATCH_SECONDS, EVENTS, topic_label
from shared.tracing import batch_span
from shared.transient import settle_bisecting

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xiaoer.metrics.ingest")


@dataclass(frozen=True)
class _Decoded:
    raw: RawRecord
    headers: dict[str, str]
    facts: tuple[Fact, ...] = ()
    bad: str | None = None


class FactIngest:
    """Stands in for the shared `Dispatcher`: same `process(records)` contract, batch work."""

    def __init__(
        self,
        engine: AsyncEngine,
        plumbing: Plumbing,
        clock: Clock,
        topics: Sequence[str],
        projector: Projector,
        *,
        rules: RuleBook,
        snapshots: bool = True,
        on_committed: Callable[[], None] | None = None,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._engine = engine
        self._plumbing = plumbing
        self._clock = clock
        self.topics = list(topics)
        self.projector = projector
        self.rules = rules
        self.snapshots = snapshots
        self._on_committed = on_committed
        self._max_backoff = max_backoff_s
        self.consumer = f"xiaoer-{plumbing.service}"

    async def process(self, records: Sequence[RawRecord]) -> None:
        """Ingest a batch until it is committed; transient failures are retried for ever."""
        if not records:
            return
        now = consumer_now(self._clock)
        await self._settle([self._decode(raw, now) for raw in records])

    def _decode(self, raw: RawRecord, now: datetime) -> _Decoded:
        d = decode_record(raw, self.topics, now)
        if d.envelope is None or d.payload is None:
            return _Decoded(raw, d.headers, bad=d.bad)
        try:
            facts = facts_of(raw.topic, d.payload, d.envelope, self.rules)
            return _Decoded(raw, d.headers, facts=tuple(facts))
        except Exception as exc:  # a fact that cannot be built is this record's fault
            return _Decoded(raw, d.headers, bad=f"no fact: {type(exc).__name__}: {exc}")

    async def _settle(self, items: list[_Decoded]) -> None:
        """Commit these records; a non-transient failure is bisected down to one record."""
        await settle_bisecting(
            items, self._ingest, self._ingest_alone, self._plumbing.service, self._max_backoff
        )

    async def _ingest_alone(self, item: _Decoded, exc: Exception) -> None:
        """The record fails even on its own: dead-letter it with the reason."""
        reason = f"could not be ingested: {type(exc).__name__}: {exc}"
        await self._ingest([replace(item, facts=(), bad=reason)])

    async def _ingest(self, items: list[_Decoded]) -> None:
        started = time.perf_counter()
        facts = [f for i in items for f in i.facts]
        events = sum(1 for f in facts if f.table is not tables.fact_quality_violations)
        bad = [i for i in items if i.bad is not None]
        with batch_span(tracer, self.consumer, [(i.raw, i.headers) for i in items]) as span:
            async with self._engine.begin() as conn:
                ctx = Context(conn, self._clock, self._plumbing)
                dead = await self._dead_letters(ctx, bad)
                changes = await self.projector.apply(conn, facts)
                if self.snapshots:
                    await mark_changed(conn, changes.cells, ctx.now(), self.projector.gap)
                for flag in changes.new_flags:
                    ctx.emit(flagged_event(flag, ctx.now()), event_id=flag.flag.flag_id)
                await ctx.flush()
            span.set_attribute("xiaoer.fresh_facts", changes.fresh_facts)
        service = self._plumbing.service
        BATCH_SECONDS.labels(service).observe(time.perf_counter() - started)
        for i in items:
            if i.bad is None:  # a fact, or an event metrics reads and drops (a non-reminder reply)
                EVENTS.labels(service, topic_label(i.raw.topic), "handled").inc()
        if events > changes.fresh_facts:
            EVENTS.labels(service, "*", "duplicate").inc(events - changes.fresh_facts)
        for topic, outcome in dead:
            EVENTS.labels(service, topic_label(topic), outcome).inc()
        if self._on_committed:
            self._on_committed()

    async def _dead_letters(self, ctx: Context, bad: list[_Decoded]) -> list[tuple[str, str]]:
        """Dead-letter bad records once: the inbox row of their position absorbs redelivery."""
        if not bad:
            return []
        claims = {position_id(i.raw): i for i in bad}
        fresh = await inbox.claim_many(
            ctx.conn,
            self._plumbing.inbox,
            self.consumer,
            [(c, i.raw.topic) for c, i in claims.items()],
        )
        out = []
        for claim, i in claims.items():
            if claim not in fresh:
                out.append((i.raw.topic, "duplicate"))
                continue
            log.warning(
                "dead-lettering %s[%d]@%d: %s", i.raw.topic, i.raw.partition, i.raw.offset, i.bad
            )
            ctx.forward_raw(dead_letter(i.raw, i.headers, str(i.bad), self.consumer))
            out.append((i.raw.topic, "dead_lettered"))
        return out
