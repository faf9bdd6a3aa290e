"""The consume path: decode, dead-letter bad input, handle a batch in one transaction, ack.

For each consumed batch:
1. every record is decoded and validated; bad input becomes a dead-letter record (original
   bytes and headers plus the reason) written through the outbox;
2. in one transaction, each good event claims its inbox row (a duplicate is skipped) and runs
   its handler inside a savepoint; a handler that raises a non-transient error has its
   savepoint rolled back and the event is dead-lettered with the error;
3. the transaction commits, then the offsets are committed (FastStream `ack`).
A transient failure (database or broker down) rolls the whole batch back and retries it with
backoff, for ever: the partition waits rather than losing or dead-lettering anything.
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
from shared.cloudevents import BadEvent, Envelope, Record, decode, normalize_headers
from shared.context import Context, Plumbing
from shared.contracts import EventPayload
from shared.masking import mask
from shared.observability import BATCH_SECONDS, EVENTS, HANDLER_SECONDS
from shared.topics import BY_NAME, DLQ_SUFFIX
from shared.tracing import batch_span, record_span
from shared.transient import is_transient, retry_transient

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
    return Record(raw.topic + DLQ_SUFFIX, key or "", raw.value or b"", {**headers, **extra})


@dataclass(frozen=True)
class Decoded:
    """A consumed record after validation: either an envelope and payload, or why not."""

    raw: RawRecord
    headers: dict[str, str]
    envelope: Envelope | None = None
    payload: EventPayload | None = None
    bad: str | None = None


def decode_record(raw: RawRecord, topics: Container[str]) -> Decoded:
    """Headers, CloudEvents envelope and payload of a record of one of `topics`; what is wrong
    with it (for its dead letter) otherwise. Shared by every consume path."""
    try:
        headers = normalize_headers(raw.headers)
    except BadEvent as exc:
        return Decoded(raw, {}, bad=str(exc))
    topic = BY_NAME.get(raw.topic)
    if topic is None or raw.topic not in topics:
        return Decoded(raw, headers, bad=f"no handler for topic {raw.topic}")
    try:
        envelope, payload = decode(topic, raw.value, headers)
    except BadEvent as exc:
        return Decoded(raw, headers, bad=str(exc))
    return Decoded(raw, headers, envelope, payload)


def position_id(raw: RawRecord) -> str:
    """The inbox id of a record that has no usable event id (or was dead-lettered)."""
    return f"position:{raw.topic}:{raw.partition}:{raw.offset}"


@dataclass
class _Item:
    """One consumed record on its way through a batch."""

    raw: RawRecord
    headers: dict[str, str]
    claim_id: str
    handler: Handler | None = None
    envelope: Envelope | None = None
    payload: EventPayload | None = None
    bad: str | None = None


class Dispatcher:
    """Routes consumed records of a service's topics to its handlers, reliably.

    A batch first runs on the fast path: one inbox statement for the whole batch and the
    handlers back to back. If a handler raises (not transiently), the transaction is rolled
    back and the batch runs again on the safe path, each handler in its own savepoint, so only
    the failing event is dead-lettered.
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
        items = [self._decode(raw) for raw in records]
        lanes: dict[int, list[_Item]] = {}
        for item in items:
            lanes.setdefault(zlib.crc32(item.raw.key or b"") % self._lanes, []).append(item)

        async def run(items: list[_Item]) -> None:
            async def attempt() -> None:
                try:
                    await self._process_once(items, safe=False)
                except _HandlerFailed:
                    await self._process_once(items, safe=True)  # isolate each handler this time

            await retry_transient(attempt, self._plumbing.service, self._max_backoff)

        with batch_span(tracer, self.consumer, [(i.raw, i.headers) for i in items]):
            await asyncio.gather(*(run(lane) for lane in lanes.values()))

    def _decode(self, raw: RawRecord) -> _Item:
        d = decode_record(raw, self._handlers)
        if d.envelope is None:
            return _Item(raw, d.headers, position_id(raw), bad=d.bad)
        return _Item(
            raw, d.headers, d.envelope.id, self._handlers[raw.topic], d.envelope, d.payload
        )

    async def _process_once(self, items: list[_Item], *, safe: bool) -> None:
        started = time.perf_counter()
        outcomes: list[tuple[str, str]] = []
        async with self._engine.begin() as conn:
            ctx = Context(conn, self._clock, self._plumbing)
            # The same event twice in one batch: only the first one counts.
            first: dict[str, _Item] = {}
            for item in items:
                first.setdefault(item.claim_id, item)
            fresh = await inbox.claim_many(
                conn,
                self._plumbing.inbox,
                self.consumer,
                [(cid, item.raw.topic) for cid, item in first.items()],
            )
            for item in items:
                if item.claim_id not in fresh or first[item.claim_id] is not item:
                    outcomes.append((item.raw.topic, "duplicate"))
                elif item.bad is not None:
                    outcomes.append((item.raw.topic, self._dead_letter(ctx, item, item.bad)))
                else:
                    outcomes.append((item.raw.topic, await self._handle(ctx, item, safe=safe)))
            await ctx.flush()
        BATCH_SECONDS.labels(self._plumbing.service).observe(time.perf_counter() - started)
        for topic, outcome in outcomes:
            EVENTS.labels(self._plumbing.service, topic, outcome).inc()
        if self._on_committed:
            self._on_committed()

    async def _handle(self, ctx: Context, item: _Item, *, safe: bool) -> str:
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
                log.exception("handler for %s failed on event %s", raw.topic, envelope.id)
                # Claimed by position rather than by id: a redelivery of this record is still a
                # no-op, while a re-drive of the dead letter (same id) is handled once fixed.
                await inbox.release(ctx.conn, self._plumbing.inbox, self.consumer, envelope.id)
                if not await inbox.claim(
                    ctx.conn, self._plumbing.inbox, self.consumer, position_id(raw), raw.topic
                ):
                    return "duplicate"  # this very record was dead-lettered before
                return self._dead_letter(ctx, item, f"handler failed: {type(exc).__name__}: {exc}")
            finally:
                HANDLER_SECONDS.labels(self._plumbing.service, raw.topic).observe(
                    time.perf_counter() - started
                )
        return "handled"

    def _dead_letter(self, ctx: Context, item: _Item, reason: str) -> str:
        raw = item.raw
        log.warning("dead-lettering %s[%d]@%d: %s", raw.topic, raw.partition, raw.offset, reason)
        ctx.forward_raw(dead_letter(raw, item.headers, reason, self.consumer))
        return "dead_lettered"


class _HandlerFailed(Exception):
    """A handler raised on the fast path: the batch is run again on the safe path."""
