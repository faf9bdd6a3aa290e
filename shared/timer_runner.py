"""Fires due durable timers exactly once across replicas (see shared/timers.py).

A firing transaction locks a batch of timers and then, handler by handler, the aggregates they
touch, in due order; the consume path locks aggregates in id order and then their timers. The
two orders cross, so the runner never waits long for a row: its transaction runs with a short
`lock_timeout`, and a timer whose handler meets a busy row is rolled back to its savepoint and
left due for the next pass. The consume path, where a wait stalls a partition, always wins.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import Clock
from shared.context import Context, Plumbing
from shared.observability import TIMERS_DEFERRED, TIMERS_FIRED
from shared.timers import Timer, pending
from shared.transient import is_lock_busy, is_transient

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xiaoer.timers")


PASS_BUDGET_S = 0.25
"""A pass commits once it has run this long, and the rest of its batch stays due for the next
pass (at once). It holds its timers' rows until then, and a consume path re-arming or cancelling
one of them waits: kept well under PostgreSQL's `deadlock_timeout` (1 s), that wait never
reaches the deadlock check, whose victim is the transaction that waited — the consume path."""

MAX_DEFERRED_PER_PASS = 3
"""A pass that met this many busy rows commits what it fired and ends: the consume path may be
waiting for the timers it holds, and each put-off firing has already cost a lock wait."""

TimerHandler = Callable[["Context", Timer], Awaitable[None]]


class TimerRunner:
    """Fires due timers through per-kind handlers; time comes from the injected clock."""

    def __init__(
        self,
        engine: AsyncEngine,
        timers: Table,
        handlers: Mapping[str, TimerHandler],
        clock: Clock,
        plumbing: Plumbing,
        *,
        batch_size: int = 200,
        poll_interval_s: float = 0.5,
        lock_wait_ms: int = 200,
        pass_budget_s: float = PASS_BUDGET_S,
        on_committed: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._timers = timers
        self._handlers = dict(handlers)
        self._clock = clock
        self._plumbing = plumbing
        self._batch = batch_size
        self._poll = poll_interval_s
        self._lock_wait_ms = int(lock_wait_ms)
        self._budget_s = pass_budget_s
        self._on_committed = on_committed
        self._stopping = False
        self.fired = 0
        self.deferred = 0

    def stop(self) -> None:
        self._stopping = True

    async def due_count(self) -> int:
        t = self._timers
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(func.count())
                .select_from(t)
                .where(pending(t), t.c.due_at <= self._clock.now())
            )
            return int(result.scalar_one())

    async def run(self) -> None:
        backoff = self._poll
        while not self._stopping:
            try:
                fired = await self.fire_due()
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer runner failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if not fired:
                await asyncio.sleep(self._poll)

    async def fire_due(self) -> int:
        """Fire one batch of due timers in one transaction; returns how many were settled
        (fired, or failed and put off a minute); those left due are not counted."""
        t = self._timers
        now = self._clock.now()
        deferred = failed = 0
        async with self._engine.begin() as conn:
            await conn.execute(text(f"SET LOCAL lock_timeout = '{self._lock_wait_ms}ms'"))
            rows = (
                await conn.execute(
                    select(t.c.id, t.c.kind, t.c.key, t.c.due_at, t.c.payload, t.c.traceparent)
                    .where(pending(t), t.c.due_at <= now)
                    .order_by(t.c.due_at, t.c.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            fired: list[str] = []
            started = time.monotonic()
            for row in rows:
                if deferred >= MAX_DEFERRED_PER_PASS or time.monotonic() - started > self._budget_s:
                    break  # the rest stay due, untouched
                timer = Timer(row.id, row.kind, row.key, row.due_at, row.payload or {})
                handler = self._handlers.get(timer.kind)
                carrier = {"traceparent": row.traceparent} if row.traceparent else {}
                token = otel_context.attach(propagate.extract(carrier))
                span = tracer.start_span(f"timer {timer.kind} fire")
                span.set_attribute("xiaoer.timer.key", timer.key)
                span_token = otel_context.attach(trace.set_span_in_context(span))
                try:
                    async with conn.begin_nested():
                        # Marked fired before the handler runs, so a handler that re-arms its
                        # own timer (schedule(..., replace=True)) is not undone by the mark.
                        await conn.execute(update(t).where(t.c.id == timer.id).values(fired_at=now))
                        if handler is None:
                            log.error("no handler for timer kind %s; marking it fired", timer.kind)
                        else:
                            ctx = Context(conn, self._clock, self._plumbing)
                            await handler(ctx, timer)
                            await ctx.flush()
                except Exception as exc:
                    if is_lock_busy(exc):  # the consume path holds its rows: next pass
                        deferred += 1
                        TIMERS_DEFERRED.labels(self._plumbing.service, timer.kind).inc()
                        span.set_attribute("xiaoer.timer.deferred", True)
                        continue
                    if is_transient(exc):
                        raise  # database trouble (lost connection): retry the batch
                    # A broken timer must not block the others: it is logged and retried later.
                    failed += 1
                    log.exception("timer %s/%s failed; retrying in 60 s", timer.kind, timer.key)
                    span.set_status(Status(StatusCode.ERROR, "timer handler failed"))
                    await conn.execute(
                        update(t)
                        .where(t.c.id == timer.id)
                        .values(due_at=now + timedelta(seconds=60), fired_at=None)
                    )
                    continue
                finally:
                    otel_context.detach(span_token)
                    span.end()
                    otel_context.detach(token)
                fired.append(timer.kind)
        self.fired += len(fired)
        self.deferred += deferred
        for kind in fired:
            TIMERS_FIRED.labels(self._plumbing.service, kind).inc()
        if fired and self._on_committed:
            self._on_committed()
        return len(fired) + failed
