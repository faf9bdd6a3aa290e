"""Transactional outbox and its relay.

Handlers never publish: they add records to the outbox in the same transaction as their state
changes. The relay publishes pending rows and marks them sent. Rows are split into shards by
key; a relay holds a shard's advisory lock while it publishes it, so with any number of
replicas each key's rows go out in insertion order (the broker keeps that order per
partition). A crash between publish and commit publishes again: consumers' inboxes absorb it.

A row the broker will never accept (too large, topic missing, not authorised) is parked with its
reason instead of blocking its shard: the rows after it go on, the rows before it are not
published again, and `python -m ops.dlq unpark` puts it back once the cause is fixed. A dead
letter that is too large goes out truncated, with its original size and hash in headers.
Transient failures (broker down) are retried for ever and park nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate
from sqlalchemy import ColumnElement, Row, Table, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.bulk import BulkInsert
from shared.cloudevents import Record
from shared.masking import mask
from shared.observability import OUTBOX_PARKED
from shared.publish_errors import Failure, classify, describe
from shared.topics import DLQ_SUFFIX

log = logging.getLogger(__name__)

TRUNCATED_DEAD_LETTER_BYTES = 64 * 1024
MAX_HEADER_CHARS = 4096

Publish = Callable[[Record], Awaitable[Awaitable[object]]]
"""Sends one record and returns an awaitable that resolves when the broker has it."""


class Deferred(Exception):
    """A record `PublishMany` did not send in this call (its partition's batch was full): the
    relay keeps its row pending and sends it in the next pass, after the rows before it."""


PublishMany = Callable[[Sequence[Record]], Awaitable[Sequence[Awaitable[object] | Exception]]]
"""Sends a pass's records (`shared.publishing.KafkaPublisher.publish_many`): one answer per
record, in order — the awaitable acknowledgement (records of one batch share it) or the
exception that kept it from being sent (`Deferred`: left for the next pass). It must never send
a record of a partition after one of that partition it did not send."""


def shard_of(key: str | None, shards: int) -> int:
    return zlib.crc32((key or "").encode()) % shards


def with_current_trace(headers: dict[str, str]) -> dict[str, str]:
    """The headers plus the current trace context: stored with the row, so the relay
    continues the trace of the handler that emitted it."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {**headers, **carrier}


_INSERTS: dict[Table, BulkInsert] = {}


async def enqueue(
    conn: AsyncConnection, outbox: Table, records: Sequence[Record], shards: int
) -> None:
    """Add the records in one statement; their ids (so the relay's order) follow the list."""
    if not records:
        return
    bulk = _INSERTS.get(outbox)
    if bulk is None:
        bulk = _INSERTS[outbox] = BulkInsert(outbox, ["shard", "topic", "key", "value", "headers"])
    await bulk.execute(
        conn, [(shard_of(r.key, shards), r.topic, r.key, r.value, r.headers) for r in records]
    )


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    parked: int = 0
    truncated: int = 0


@dataclass
class _Pass:
    """What one pass over a shard decided, row by row."""

    sent: list[int] = field(default_factory=list)
    parked: dict[int, str] = field(default_factory=dict)
    transient: BaseException | None = None


def truncated_dead_letter(record: Record, limit: int = TRUNCATED_DEAD_LETTER_BYTES) -> Record:
    """A copy of a dead letter the broker refused as too large: the first `limit` bytes and,
    in headers, the original's size and SHA-256 (the outbox row keeps the whole original)."""
    headers = {k: v[:MAX_HEADER_CHARS] for k, v in record.headers.items()}
    headers |= {
        "x-dlq-truncated": "true",
        "x-dlq-original-size": str(len(record.value)),
        "x-dlq-original-sha256": hashlib.sha256(record.value).hexdigest(),
    }
    return Record(record.topic, record.key, record.value[:limit], headers)


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        publish: Publish,
        *,
        lock_space: str,
        shards: int,
        batch_size: int = 500,
        poll_interval_s: float = 0.2,
        service: str | None = None,
        unknown_topic_attempts: int = 5,
        publish_many: PublishMany | None = None,
        on_wake: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publish = publish
        self._publish_many = publish_many
        self._on_wake = on_wake
        self._lock_space = lock_space
        self._shards = shards
        self._batch_size = batch_size
        self._poll = poll_interval_s
        self._service = service or lock_space.split(".")[0]
        self._unknown_topic_attempts = unknown_topic_attempts
        self._unknown_topic_failures: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._failing = False
        self.stats = RelayStats()

    def wake(self) -> None:
        """Called after a handler commits, so new rows go out without waiting for the poll
        (with a separate relay process, `on_wake` passes the news on: shared/relay.py)."""
        self._wake.set()
        if self._on_wake is not None:
            self._on_wake()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _pending(self) -> ColumnElement[bool]:
        o = self._outbox
        return and_(o.c.sent_at.is_(None), o.c.parked_at.is_(None))

    async def backlog(self) -> int:
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(func.count()).select_from(self._outbox).where(self._pending())
            )
            return int(result.scalar_one())

    async def parked(self) -> int:
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(func.count())
                .select_from(self._outbox)
                .where(self._outbox.c.parked_at.is_not(None), self._outbox.c.sent_at.is_(None))
            )
            return int(result.scalar_one())

    async def run(self) -> None:
        first_retry = min(self._poll, 0.5)  # not the poll: a separate relay polls once a minute
        backoff = first_retry
        while not self._stopping:
            # Cleared before the pass, not after it: a commit that wakes the relay while a pass
            # runs (and found nothing yet) gets the next pass at once, not after the poll.
            self._wake.clear()
            try:
                sent = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                self._failing = True
                sent = 0
            if self._failing:
                # Broker or database unavailable: wait longer each time, never give up.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = first_retry
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def relay_once(self) -> int:
        """One pass: in one transaction, lock every shard with pending rows that no other
        replica holds, publish their oldest rows in id order (so per key), mark them sent or
        parked.

        One transaction and a few statements per pass whatever the number of shards (up to
        `batch_size / shards` rows of each, by the partial index on (shard, id)): a pass that
        carries a handful of events (light traffic) costs as little as one that carries
        hundreds, which is what keeps the hop's latency low. A row the broker refuses for good
        is parked and the others go on; a transient failure leaves it and the rows after it
        pending (so every key keeps its order) while the rows already acknowledged count as
        sent.
        """
        o = self._outbox
        self._failing = False
        async with self._engine.begin() as conn:
            # Two statements on purpose: in READ COMMITTED a statement reads the snapshot taken
            # when it began, so a row read in the statement that takes the lock may predate the
            # commit of the replica that held the lock just before (and published the row).
            # Reading after the lock is held sees that commit.
            shards = (
                (
                    await conn.execute(
                        text(
                            f"SELECT shard FROM (SELECT DISTINCT shard FROM {o.name}"
                            "  WHERE sent_at IS NULL AND parked_at IS NULL) AS pending"
                            " WHERE pg_try_advisory_xact_lock(hashtext(:space), shard)"
                        ),
                        {"space": self._lock_space},
                    )
                )
                .scalars()
                .all()
            )
            if not shards:
                return 0
            rows = (
                await conn.execute(
                    text(
                        "SELECT r.id, r.topic, r.key, r.value, r.headers"
                        " FROM unnest(CAST(:shards AS int[])) AS locked(shard),"
                        f" LATERAL (SELECT * FROM {o.name} WHERE shard = locked.shard"
                        "  AND sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT :n) AS r"
                        " ORDER BY r.id"
                    ),
                    {"shards": list(shards), "n": max(1, self._batch_size // self._shards)},
                )
            ).all()
            if not rows:
                return 0
            outcome = await self._publish_rows(rows)
            if outcome.sent:
                await conn.execute(
                    text(
                        f"UPDATE {o.name} SET sent_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))"
                    ),
                    {"ids": outcome.sent},
                )
            if outcome.parked:
                await conn.execute(
                    text(
                        f"UPDATE {o.name} SET parked_at = now(), park_reason = p.reason"
                        " FROM unnest(CAST(:ids AS bigint[]), CAST(:reasons AS text[]))"
                        f" AS p(id, reason) WHERE {o.name}.id = p.id"
                    ),
                    {"ids": list(outcome.parked), "reasons": list(outcome.parked.values())},
                )
        self.stats.published += len(outcome.sent)
        self.stats.parked += len(outcome.parked)
        self.stats.batches += 1
        if outcome.transient is not None:
            self._failing = True
            log.warning("outbox relay: publish failed, will retry: %r", outcome.transient)
        return len(outcome.sent)

    async def _publish_rows(self, rows: Sequence[Row[Any]]) -> _Pass:
        """Publish rows in order; every row the broker acknowledged counts as sent, whatever
        happened to the others, so that no row is published twice because of another one."""
        if self._publish_many is not None:
            return await self._publish_batched(rows, self._publish_many)
        outcome = _Pass()
        acks: list[tuple[Row[Any], Record, Awaitable[object]]] = []
        for row in rows:
            record = Record(row.topic, row.key, bytes(row.value), dict(row.headers))
            try:
                acks.append((row, record, await self._send(record)))
            except Exception as exc:
                if not await self._settle_failure(outcome, row, record, exc):
                    break  # transient: later rows wait, so the shard keeps its order
        results = await asyncio.gather(*(ack for _, _, ack in acks), return_exceptions=True)
        for (row, record, _), result in zip(acks, results, strict=True):
            if not isinstance(result, BaseException):
                outcome.sent.append(row.id)
                if self._unknown_topic_failures:
                    self._unknown_topic_failures.pop(row.id, None)
            elif not isinstance(result, Exception):
                raise result  # cancellation
            else:
                await self._settle_failure(outcome, row, record, result)
        return outcome

    async def _publish_batched(self, rows: Sequence[Row[Any]], publish_many: PublishMany) -> _Pass:
        """Publish the rows with one batch per topic-partition (`publish_many`); settle each
        row by its batch's outcome. A batch the broker refused for good (too large for the
        broker, not authorised...) is sent again row by row, in order, so that only its culprit
        is parked: nothing of a refused batch was written, so nothing goes out twice."""
        outcome = _Pass()
        records = [Record(r.topic, r.key, bytes(r.value), r.headers) for r in rows]
        answers = await publish_many(records)
        batches: dict[int, tuple[Awaitable[object], list[int]]] = {}
        for i, answer in enumerate(answers):
            if isinstance(answer, Deferred):
                continue  # stays pending: the next pass sends it after the rows before it
            if isinstance(answer, Exception):
                await self._settle_failure(outcome, rows[i], records[i], answer)
                continue
            batches.setdefault(id(answer), (answer, []))[1].append(i)
        results = await asyncio.gather(
            *(ack for ack, _ in batches.values()), return_exceptions=True
        )
        for (_, members), result in zip(batches.values(), results, strict=True):
            if not isinstance(result, BaseException):
                outcome.sent.extend(rows[i].id for i in members)
                if self._unknown_topic_failures:
                    for i in members:
                        self._unknown_topic_failures.pop(rows[i].id, None)
            elif not isinstance(result, Exception):
                raise result  # cancellation
            elif len(members) > 1 and classify(result).permanent:
                log.warning(
                    "outbox relay: a batch of %d rows was refused (%s); sending them one by one",
                    len(members),
                    describe(result),
                )
                for i in members:
                    if not await self._publish_alone(outcome, rows[i], records[i]):
                        break  # transient: the rest of the batch waits, in order

            else:
                for i in members:
                    await self._settle_failure(outcome, rows[i], records[i], result)
        return outcome

    async def _publish_alone(self, outcome: _Pass, row: Row[Any], record: Record) -> bool:
        """Send one row and wait for the broker: True once it is settled (sent or parked)."""
        try:
            await (await self._send(record))
        except Exception as exc:
            return await self._settle_failure(outcome, row, record, exc)
        outcome.sent.append(row.id)
        return True

    async def _send(self, record: Record) -> Awaitable[object]:
        token = otel_context.attach(propagate.extract(record.headers))
        try:
            return await self._publish(record)
        finally:
            otel_context.detach(token)

    async def _settle_failure(
        self, outcome: _Pass, row: Row[Any], record: Record, exc: Exception
    ) -> bool:
        """Decide about one row that failed: True if it is settled (parked, or sent as a
        truncated dead letter), False if it stays pending (transient)."""
        kind = classify(exc)
        if kind is Failure.UNKNOWN_TOPIC:
            failures = self._unknown_topic_failures.get(row.id, 0) + 1
            self._unknown_topic_failures[row.id] = failures
            if failures < self._unknown_topic_attempts:
                kind = Failure.TRANSIENT
        if not kind.permanent:
            outcome.transient = outcome.transient or exc
            return False
        self._unknown_topic_failures.pop(row.id, None)
        if kind is Failure.TOO_LARGE and record.topic.endswith(DLQ_SUFFIX):
            try:
                await (await self._send(truncated_dead_letter(record)))
            except Exception as again:
                if not classify(again).permanent:
                    outcome.transient = outcome.transient or again
                    return False
                exc = again
            else:
                log.warning("dead letter %s too large: published truncated", row.id)
                self.stats.truncated += 1
                outcome.sent.append(row.id)
                return True
        reason = mask(f"{kind.value}: {describe(exc)}")
        log.error("outbox row %s to %s parked: %s", row.id, record.topic, reason)
        OUTBOX_PARKED.labels(self._service, kind.value).inc()
        outcome.parked[row.id] = reason
        return True
