"""`BatchConsumer`: the runtime's consume path for a service on the batch pattern (load,
decide, settle, save — `shared/batch.py` describes it), with the inbox, dead letters,
bisection of failing batches, per-event handlers for rare topics, and the effects written in
bulk (timers: `shared/timer_writes.py`; events: one outbox statement)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared import inbox
from shared.batch_logic import BatchLogic, C, Decided, Item, S
from shared.clock import Clock
from shared.consumer import (
    POSITION_SOURCE,
    Decoded,
    Handler,
    RawRecord,
    consumer_now,
    dead_letter,
    decode_record,
    position_id,
)
from shared.context import Context, Plumbing
from shared.effects import TimerArm
from shared.observability import (
    BATCH_SECONDS,
    BUSINESS,
    EVENTS,
    HANDLER_SECONDS,
    counted_on_commit,
    pending_counts,
    topic_label,
)
from shared.sql_arrays import pairs_among
from shared.timer_writes import write_timers
from shared.tracing import batch_span, record_context, record_span
from shared.transient import is_transient, settle_bisecting

log = logging.getLogger("shared.batch")
tracer = trace.get_tracer("xiaoer.batch")


@dataclass
class _Outcome(Generic[C]):
    decided: list[Decided[C]] = field(default_factory=list)
    failed: list[tuple[Item, str]] = field(default_factory=list)

    def __iadd__(self, other: _Outcome[C]) -> _Outcome[C]:
        self.decided += other.decided
        self.failed += other.failed
        return self


class BatchConsumer(Generic[S, C]):
    """The runtime's consume path for a service built on the batch pattern."""

    def __init__(
        self,
        engine: AsyncEngine,
        plumbing: Plumbing,
        clock: Clock,
        logic: BatchLogic[S, C],
        *,
        handlers: Mapping[str, Handler] | None = None,
        on_committed: Any = None,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._engine = engine
        self._plumbing = plumbing
        self._clock = clock
        self._logic = logic
        self._handlers = dict(handlers or {})
        self._on_committed = on_committed
        self._max_backoff = max_backoff_s
        self.consumer = f"xiaoer-{plumbing.service}"
        self._timers: dict[str, Any] = {}

    @property
    def topics(self) -> list[str]:
        return [*self._logic.topics, *self._handlers]

    async def process(self, records: Sequence[RawRecord]) -> None:
        """Handle a batch until it is committed; transient failures are retried for ever."""
        if not records:
            return
        now = consumer_now(self._clock)
        decoded = [decode_record(raw, self.topics, now) for raw in records]
        with batch_span(tracer, self.consumer, [(d.raw, d.headers) for d in decoded]):
            await self._settle(decoded)

    async def _settle(self, decoded: list[Decoded]) -> None:
        """Commit these records; a non-transient failure outside the decisions (inbox, a
        per-event handler's savepoint, the outbox) is bisected down to the record that fails
        alone, which is dead-lettered: the batch never rewinds for ever."""
        await settle_bisecting(
            decoded,
            self._process_once,
            self._dead_letter_alone,
            self._plumbing.service,
            self._max_backoff,
        )

    async def _dead_letter_alone(self, d: Decoded, failure: Exception) -> None:
        """The record fails even on its own: dead-letter it in a transaction of its own,
        claimed by its position."""
        raw = d.raw
        reason = f"could not be stored: {type(failure).__name__}: {failure}"
        async with self._engine.begin() as conn:
            ctx = Context(conn, self._clock, self._plumbing)
            if await inbox.claim(
                conn, self._plumbing.inbox, self.consumer, position_id(raw), raw.topic
            ):
                outcome = self._dead_letter(ctx, d, reason)
            else:
                outcome = "duplicate"
            await ctx.flush()
        EVENTS.labels(self._plumbing.service, topic_label(raw.topic), outcome).inc()

    # -- one attempt -----------------------------------------------------------------------
    async def _process_once(self, decoded: list[Decoded]) -> None:
        started = time.perf_counter()
        service = self._plumbing.service
        outcomes: list[tuple[str, str]] = []
        parents = [record_context(d.headers) for d in decoded]
        with counted_on_commit() as counts:
            async with self._engine.begin() as conn:
                ctx = Context(conn, self._clock, self._plumbing)
                claim_of = [
                    (d.envelope.source, d.envelope.id)
                    if d.envelope is not None
                    else (POSITION_SOURCE, position_id(d.raw))
                    for d in decoded
                ]
                first: dict[tuple[str, str], int] = {}
                for i, claim in enumerate(claim_of):
                    first.setdefault(claim, i)
                fresh = await inbox.claim_events(
                    conn,
                    self._plumbing.inbox,
                    self.consumer,
                    [(*claim, decoded[i].raw.topic) for claim, i in first.items()],
                )
                items: list[Item] = []
                for i, d in enumerate(decoded):
                    if claim_of[i] not in fresh or first[claim_of[i]] != i:
                        outcomes.append((d.raw.topic, "duplicate"))
                    elif d.envelope is None or d.payload is None:
                        outcomes.append((d.raw.topic, self._dead_letter(ctx, d, str(d.bad))))
                    elif d.raw.topic in self._handlers:
                        outcomes.append((d.raw.topic, await self._handle(ctx, d)))
                    else:
                        items.append(Item(d.raw, d.headers, d.envelope, d.payload, parents[i]))
                now = self._clock.now()
                result = await self._decide_and_save(conn, items, now) if items else _Outcome()
                first_time = await self._release_failed(ctx, result.failed)
                for item, reason in result.failed:
                    if position_id(item.raw) not in first_time:
                        outcomes.append((item.topic, "duplicate"))  # dead-lettered before
                        continue
                    d = Decoded(item.raw, item.headers, item.envelope, item.payload)
                    outcomes.append((item.topic, self._dead_letter(ctx, d, reason)))
                outcomes += [(x.item.topic, "handled") for x in result.decided]
                await ctx.flush()
            counts.commit()
        BATCH_SECONDS.labels(service).observe(time.perf_counter() - started)
        for (topic, outcome), n in Counter(outcomes).items():
            EVENTS.labels(service, topic_label(topic), outcome).inc(n)
        kinds = Counter(k for x in result.decided for k in x.decision.effects.counters)
        for kind, n in kinds.items():
            BUSINESS.labels(service, kind).inc(n)
        if self._on_committed:
            self._on_committed()

    async def _decide_and_save(
        self, conn: AsyncConnection, items: list[Item], now: datetime
    ) -> _Outcome[C]:
        """Load, decide, settle and save `items` in a savepoint; on a (non-transient) failure,
        the same for each half, until the record that fails is alone and dead-lettered."""
        try:
            async with conn.begin_nested():
                return await self._attempt(conn, items, now)
        except Exception as exc:
            if is_transient(exc):
                raise
            if len(items) == 1:
                log.exception("batch step failed on %s", items[0].envelope.id)
                return _Outcome(failed=[(items[0], f"batch failed: {type(exc).__name__}: {exc}")])
            log.warning("batch step failed (%r); retrying %d records in halves", exc, len(items))
            half = len(items) // 2
            outcome = await self._decide_and_save(conn, items[:half], now)
            outcome += await self._decide_and_save(conn, items[half:], now)
            return outcome

    async def _attempt(
        self, conn: AsyncConnection, items: list[Item], now: datetime
    ) -> _Outcome[C]:
        logic = self._logic
        outcome: _Outcome[C] = _Outcome()
        state = await logic.load(conn, items)
        for item in items:
            started = time.perf_counter()
            with record_span(
                tracer, item.raw, item.headers, item.envelope.id, item.payload, self.consumer,
                context=item.parent,
            ) as span:  # fmt: skip
                try:
                    decision = logic.decide(state, item, now)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, "decision failed"))
                    log.exception("decision failed on %s", item.envelope.id)
                    outcome.failed.append((item, f"decision failed: {type(exc).__name__}: {exc}"))
                    continue
                finally:
                    self._decide_seconds(item.topic).observe(time.perf_counter() - started)
                logic.apply(state, decision)
                outcome.decided.append(Decided(item, decision, otel_context.get_current()))
        await logic.settle(conn, state, outcome.decided, now)
        await logic.save(conn, state)
        await self._write_effects(conn, outcome.decided)
        return outcome

    async def _write_effects(self, conn: AsyncConnection, decided: list[Decided[C]]) -> None:
        """Timers in bulk, then every emitted event in one outbox statement."""
        timers: dict[tuple[str, str], tuple[TimerArm, str | None]] = {}
        ctx = Context(conn, self._clock, self._plumbing)
        for x in decided:
            effects = x.decision.effects
            if not effects.timers and not effects.events:
                continue
            carrier: dict[str, str] = {}  # the record's span: once for all its effects
            propagate.inject(carrier, context=x.trace)
            for arm in effects.timers:  # the last word on a (kind, key) wins
                timers.pop((arm.kind, arm.key), None)
                timers[(arm.kind, arm.key)] = (arm, carrier.get("traceparent"))
            for e in effects.events:
                ctx.emit(e.payload, subject=e.subject, event_id=e.event_id, trace=carrier)
        await write_timers(conn, self._plumbing.timers, list(timers.values()))
        await ctx.flush()

    def _decide_seconds(self, topic: str) -> Any:
        timer = self._timers.get(topic)
        if timer is None:
            timer = self._timers[topic] = HANDLER_SECONDS.labels(self._plumbing.service, topic)
        return timer

    # -- per-event handlers and dead letters -----------------------------------------------
    async def _handle(self, ctx: Context, d: Decoded) -> str:
        """An ordinary per-event handler in its own savepoint (rare, stateful topics)."""
        assert d.envelope is not None  # bad records are dead-lettered before
        assert d.payload is not None
        handler = self._handlers[d.raw.topic]
        started = time.perf_counter()
        item = Item(d.raw, d.headers, d.envelope, d.payload, record_context(d.headers))
        with record_span(tracer, d.raw, d.headers, d.envelope.id, d.payload, self.consumer) as span:
            emitted_before = len(ctx.records)
            held = pending_counts()
            mark = held.mark() if held is not None else 0
            try:
                async with ctx.conn.begin_nested():
                    await handler(ctx, d.payload, d.envelope)
            except Exception as exc:
                if is_transient(exc):
                    raise
                if held is not None:
                    held.rollback_to(mark)  # its counters never happened
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, "handler failed"))
                del ctx.records[emitted_before:]
                log.exception("handler for %s failed on event %s", d.raw.topic, d.envelope.id)
                if not await self._release_failed(ctx, [(item, "")]):
                    return "duplicate"  # this very record was dead-lettered before
                return self._dead_letter(ctx, d, f"handler failed: {type(exc).__name__}: {exc}")
            finally:
                HANDLER_SECONDS.labels(self._plumbing.service, d.raw.topic).observe(
                    time.perf_counter() - started
                )
        return "handled"

    async def _release_failed(self, ctx: Context, failed: Sequence[tuple[Item, str]]) -> set[str]:
        """A failed record is claimed by its position rather than its id: a redelivery is a
        no-op, while a re-drive of its dead letter (same id) is handled once fixed. Returns
        the positions claimed now (the others were dead-lettered before)."""
        if not failed:
            return set()
        ib = self._plumbing.inbox
        await ctx.conn.execute(
            ib.delete().where(
                ib.c.consumer == self.consumer,
                pairs_among(
                    ib.c.source,
                    ib.c.event_id,
                    {(i.envelope.source, i.envelope.id) for i, _ in failed},
                ),
            )
        )
        return await inbox.claim_many(
            ctx.conn,
            ib,
            self.consumer,
            [(position_id(item.raw), item.topic) for item, _ in failed],
        )

    def _dead_letter(self, ctx: Context, d: Decoded, reason: str) -> str:
        raw = d.raw
        log.warning("dead-lettering %s[%d]@%d: %s", raw.topic, raw.partition, raw.offset, reason)
        ctx.forward_raw(dead_letter(raw, d.headers, reason, self.consumer))
        return "dead_lettered"
