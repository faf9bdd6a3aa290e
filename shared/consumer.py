"""The consume path: decode, dead-letter bad input, handle a batch in one transaction, ack.

For each consumed batch:
1. every record is decoded and validated; bad input becomes a dead-letter record (original
   bytes and headers plus the reason) written through the outbox;
2. in one transaction, each good event claims its inbox row by CloudEvents `source` + `id` (a
   duplicate is skipped) and runs its handler; a handler that raises a non-transient error
   has the batch re-run with each handler in a savepoint, and only its event is dead-lettered;
3. the transaction commits, then the offsets are committed (FastStream `ack`).
A transient failure (database or broker down) rolls the whole batch back and retries it with
backoff, for ever: the partition waits rather than losing or dead-lettering anything.
Any other failure outside a handler (the inbox claim, a bulk statement, the outbox write) is
bisected: each half of the batch is committed on its own, down to the single record to blame,
which is dead-lettered alone with the reason. No record can hold its partition back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import inbox
from shared.clock import Clock
from shared.cloudevents import Envelope, Record, decode, read_headers
from shared.context import Context, Plumbing
from shared.contracts import EventPayload
from shared.masking import mask
from shared.observability import (
    BATCH_SECONDS,
    EVENTS,
    HANDLER_SECONDS,
    counted_on_commit,
    topic_label,
)
from shared.observability import pending_counts as _pending
from shared.topics import BY_NAME, DLQ_SUFFIX
from shared.tracing import batch_span, record_span
from shared.transient import is_transient, settle_bisecting

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xiaoer.consumer")

Handler = Callable[[Context, Any, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class RawRecord:
    """The parts of a consumed Kafka record the consume path needs."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] | Mapping[str, str | bytes]


def _storable(text: str) -> str:
    """PostgreSQL text (and JSONB) cannot hold NUL: a dead letter's key and headers are kept
    with each NUL replaced by U+FFFD; its value keeps the original bytes."""
    return text.replace("\x00", "\ufffd")


def dead_letter(raw: RawRecord, headers: Mapping[str, str], reason: str, consumer: str) -> Record:
    extra = {
        "x-dlq-reason": mask(reason)[:2000],  # an error message can quote buyer text
        "x-dlq-topic": raw.topic,
        "x-dlq-partition": str(raw.partition),
        "x-dlq-offset": str(raw.offset),
        "x-dlq-consumer": consumer,
        "x-dlq-failed-at": datetime.now(UTC).isoformat(),
    }
    key = raw.key.decode(errors="replace") if raw.key is not None else None
    kept = {_storable(k): _storable(v) for k, v in {**headers, **extra}.items()}
    return Record(raw.topic + DLQ_SUFFIX, _storable(key or ""), raw.value or b"", kept)


@dataclass(frozen=True)
class Decoded:
    """A consumed record after validation: either an envelope and payload, or why not."""

    raw: RawRecord
    headers: dict[str, str]
    envelope: Envelope | None = None
    payload: EventPayload | None = None
    bad: str | None = None


def decode_record(raw: RawRecord, topics: Container[str], now: datetime | None = None) -> Decoded:
    """Headers, CloudEvents envelope and payload of a record of one of `topics`; what is wrong
    with it (for its dead letter) otherwise. Never raises. `now` (the consumer's clock) clamps
    times of what happened that lie too far ahead. Shared by every consume path."""
    headers, problem = read_headers(raw.headers)
    if problem is not None:
        return Decoded(raw, headers, bad=problem)
    topic = BY_NAME.get(raw.topic)
    if topic is None or raw.topic not in topics:
        return Decoded(raw, headers, bad=f"no handler for topic {raw.topic}")
    try:
        envelope, payload = decode(topic, raw.value, headers, now=now)
    except Exception as exc:  # BadEvent, or a decoder bug: either way this record is bad
        return Decoded(raw, headers, bad=str(exc) or type(exc).__name__)
    return Decoded(raw, headers, envelope, payload)


def consumer_now(clock: Clock) -> datetime:
    """The time a consumed event's "happened at" is checked against: the later of the
    service's clock (ahead of the wall in the compressed demo) and the wall clock (the broker's
    time; ahead of a test's fake clock)."""
    return max(clock.now(), datetime.now(UTC))


POSITION_SOURCE = ""
"""The inbox `source` of claims by record position (a CloudEvents source is never empty)."""


def position_id(raw: RawRecord) -> str:
    """The inbox id of a record that has no usable event id (or was dead-lettered)."""
    return f"position:{raw.topic}:{raw.partition}:{raw.offset}"


@dataclass
class _Item:
    """One consumed record on its way through a batch."""

    raw: RawRecord
    headers: dict[str, str]
    claim: tuple[str, str]  # inbox (source, id): the event's, or its position's
    handler: Handler | None = None
    envelope: Envelope | None = None
    payload: EventPayload | None = None
    bad: str | None = None


class Dispatcher:
    """Routes consumed records of a service's topics to its handlers, reliably.

    A batch first runs on the fast path: one inbox statement for the whole batch and the
    handlers back to back. If a handler raises (not transiently), the transaction is rolled
    back and the batch runs again on the safe path, each handler in its own savepoint, so only
    the failing event is dead-lettered. If the batch fails outside any handler, it is split in
    two halves committed one after the other, down to the one record that fails alone.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        plumbing: Plumbing,
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        on_committed: Callable[[], None] | None = None,
        max_backoff_s: float = 10.0,
        lanes: int = 1,
    ) -> None:
        self._engine = engine
        self._plumbing = plumbing
        self._clock = clock
        self._handlers = dict(handlers)
        self._on_committed = on_committed
        self._max_backoff = max_backoff_s
        self._lanes = max(1, lanes)
        self.consumer = f"xiaoer-{plumbing.service}"

    @property
    def topics(self) -> list[str]:
        return list(self._handlers)

    async def process(self, records: Sequence[RawRecord]) -> None:
        """Handle a batch until it is committed; transient failures are retried for ever.

        The batch is split into lanes by Kafka key: each lane runs in its own transaction on
        its own connection, concurrently with the others, so handlers waiting on the database
        overlap. Events of one key share a lane and keep their order; order across keys was
        never promised. The offsets are committed after every lane has committed.
        """
        if not records:
            return
        now = consumer_now(self._clock)
        items = [self._decode(raw, now) for raw in records]
        with batch_span(tracer, self.consumer, [(i.raw, i.headers) for i in items]):
            await self._process_lanes(items)

    async def _process_lanes(self, items: list[_Item]) -> None:
        lanes: dict[int, list[_Item]] = {}
        for item in items:
            lanes.setdefault(zlib.crc32(item.raw.key or b"") % self._lanes, []).append(item)
        if len(lanes) == 1:
            await self._settle(next(iter(lanes.values())))
            return
        # Lanes run concurrently once; a lane that fails (typically a deadlock with another
        # lane over a shared row, e.g. one buyer's profile) is settled again afterwards, one
        # lane at a time, so that concurrent retries cannot keep deadlocking each other.
        failed: list[list[_Item]] = []

        async def first_try(items: list[_Item]) -> None:
            try:
                await self._attempt(items)
            except Exception as exc:
                log.info(
                    "lane of %d failed (%s); settling it alone", len(items), type(exc).__name__
                )
                failed.append(items)

        await asyncio.gather(*(first_try(lane) for lane in lanes.values()))
        for lane in failed:
            await self._settle(lane)

    def _decode(self, raw: RawRecord, now: datetime) -> _Item:
        d = decode_record(raw, self._handlers, now)
        if d.envelope is None:
            return _Item(raw, d.headers, (POSITION_SOURCE, position_id(raw)), bad=d.bad)
        return _Item(
            raw,
            d.headers,
            (d.envelope.source, d.envelope.id),
            self._handlers[raw.topic],
            d.envelope,
            d.payload,
        )

    async def _settle(self, items: list[_Item]) -> None:
        """Commit these records; a non-transient failure outside the handlers is bisected."""
        await settle_bisecting(
            items, self._attempt, self._dead_letter_alone, self._plumbing.service, self._max_backoff
        )

    async def _attempt(self, items: list[_Item]) -> None:
        try:
            await self._process_once(items, safe=False)
        except _HandlerFailed:
            await self._process_once(items, safe=True)  # isolate each handler this time

    async def _process_once(self, items: list[_Item], *, safe: bool) -> None:
        started = time.perf_counter()
        outcomes: list[tuple[str, str]] = []
        with counted_on_commit() as counts:
            async with self._engine.begin() as conn:
                ctx = Context(conn, self._clock, self._plumbing)
                # The same event twice in one batch: only the first one counts.
                first: dict[tuple[str, str], _Item] = {}
                for item in items:
                    first.setdefault(item.claim, item)
                fresh = await inbox.claim_events(
                    conn,
                    self._plumbing.inbox,
                    self.consumer,
                    [(*claim, item.raw.topic) for claim, item in first.items()],
                )
                for item in items:
                    if item.claim not in fresh or first[item.claim] is not item:
                        outcomes.append((item.raw.topic, "duplicate"))
                    elif item.bad is not None:
                        outcomes.append((item.raw.topic, self._dead_letter(ctx, item, item.bad)))
                    else:
                        outcome = await self._handle(ctx, item, safe=safe, counts=counts.mark())
                        outcomes.append((item.raw.topic, outcome))
                await ctx.flush()
            counts.commit()
        self._committed(started, outcomes)

    def _committed(self, started: float, outcomes: list[tuple[str, str]]) -> None:
        BATCH_SECONDS.labels(self._plumbing.service).observe(time.perf_counter() - started)
        for topic, outcome in outcomes:
            EVENTS.labels(self._plumbing.service, topic_label(topic), outcome).inc()
        if self._on_committed:
            self._on_committed()

    async def _handle(self, ctx: Context, item: _Item, *, safe: bool, counts: int) -> str:
        assert item.handler is not None
        assert item.envelope is not None
        raw, envelope = item.raw, item.envelope
        started = time.perf_counter()
        with record_span(
            tracer, raw, item.headers, envelope.id, item.payload, self.consumer
        ) as span:
            emitted_before = len(ctx.records)
            try:
                if safe:
                    async with ctx.conn.begin_nested():
                        await item.handler(ctx, item.payload, envelope)
                else:
                    await item.handler(ctx, item.payload, envelope)
            except Exception as exc:
                if is_transient(exc):
                    raise
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, "handler failed"))
                if not safe:
                    raise _HandlerFailed from exc
                del ctx.records[emitted_before:]
                pending = _pending()
                if pending is not None:
                    pending.rollback_to(counts)
                log.exception("handler for %s failed on event %s", raw.topic, envelope.id)
                # Claimed by position rather than by id: a redelivery of this record is still a
                # no-op, while a re-drive of the dead letter (same id) is handled once fixed.
                await inbox.release(
                    ctx.conn,
                    self._plumbing.inbox,
                    self.consumer,
                    envelope.id,
                    source=envelope.source,
                )
                if not await inbox.claim(
                    ctx.conn, self._plumbing.inbox, self.consumer, position_id(raw), raw.topic
                ):
                    return "duplicate"  # this very record was dead-lettered before
                return self._dead_letter(ctx, item, f"handler failed: {type(exc).__name__}: {exc}")
            finally:
                HANDLER_SECONDS.labels(self._plumbing.service, topic_label(raw.topic)).observe(
                    time.perf_counter() - started
                )
        return "handled"

    async def _dead_letter_alone(self, item: _Item, failure: Exception) -> None:
        """The record fails even on its own, outside any handler (e.g. a value the database
        rejects): dead-letter it in a transaction of its own, claimed by its position."""
        started = time.perf_counter()
        raw = item.raw
        reason = f"could not be stored: {type(failure).__name__}: {failure}"
        async with self._engine.begin() as conn:
            ctx = Context(conn, self._clock, self._plumbing)
            if await inbox.claim(
                conn, self._plumbing.inbox, self.consumer, position_id(raw), raw.topic
            ):
                outcome = self._dead_letter(ctx, item, reason)
            else:
                outcome = "duplicate"
            await ctx.flush()
        self._committed(started, [(raw.topic, outcome)])

    def _dead_letter(self, ctx: Context, item: _Item, reason: str) -> str:
        raw = item.raw
        log.warning("dead-lettering %s[%d]@%d: %s", raw.topic, raw.partition, raw.offset, reason)
        ctx.forward_raw(dead_letter(raw, item.headers, reason, self.consumer))
        return "dead_lettered"


class _HandlerFailed(Exception):
    """A handler raised on the fast path: the batch is run again on the safe path."""
