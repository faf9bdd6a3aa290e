"""Commits a consumed batch in time-bounded chunks, so a slow batch cannot stall its group.

A polled batch is one transaction on the fast path, and its offsets are committed once it is
done: a batch of records that are each slow to handle (a flood of hostile records that are
dead-lettered one by one, a handler that reads a long queue, a deadlock retry) holds the
group's committed offsets still for the whole batch. `ChunkPacer` learns the recent cost per
record of each topic and cuts each batch into chunks expected to take about `budget_s`; the runtime commits
the offsets of every chunk as soon as its transaction has committed. A cheap batch stays one
chunk (the bulk fast path is unchanged); an expensive one commits every `budget_s` or so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka.annotations import KafkaMessage

from shared.tracing import ConsumedRecord

T = TypeVar("T")
R = TypeVar("R", bound=ConsumedRecord)
log = logging.getLogger("shared.runtime")

CHUNK_OVERHEAD_S = 0.05
"""A chunk's fixed cost on the dev stack (about twenty statements and a commit)."""


class ChunkPacer:
    """Chunk sizes from the recent cost per record of each topic (seconds).

    Costs are per topic because they differ by orders of magnitude between topics (a bulk
    decision against a per-event handler that reads a queue), and polls interleave topics: a
    single average would let the first batch of a slow topic after a run of cheap ones run
    whole. A cost that rises is taken at once, one that falls is smoothed. A topic not seen
    yet is assumed as dear as the dearest one seen.
    """

    def __init__(self, budget_s: float, smoothing: float = 0.3, overhead_s: float = 0.0) -> None:
        self.budget_s = budget_s
        self.smoothing = smoothing
        self.overhead_s = overhead_s
        """What a chunk costs whatever its size (the transaction, its load and save statements):
        not charged to its records. Charged, a small chunk of cheap records looked dear per
        record, so the next chunks were small too and never grew back (aftersale's mixed
        workload ran at half its throughput)."""
        self.cost_s: dict[str, float] = {}

    def _cost(self, topic: str) -> float:
        known = self.cost_s.get(topic)
        if known is not None:
            return known
        return max(self.cost_s.values(), default=0.0)

    def size(self, topics: Sequence[str]) -> int:
        """How many of the next records (their topics in order) fit in the budget; at least one."""
        if self.budget_s <= 0:
            return len(topics)
        spent = 0.0
        for n, topic in enumerate(topics):
            spent += self._cost(topic)
            if spent > self.budget_s + 1e-9:  # (rounding: 20 x 0.05 fits in 1.0)
                return max(1, n)
        return len(topics)

    def observe(self, seconds: float, topics: Sequence[str]) -> None:
        """A chunk of records of these topics took `seconds`, shared evenly among them."""
        if not topics:
            return
        cost = max(seconds - self.overhead_s, 0.0) / len(topics)
        for topic in set(topics):
            old = self.cost_s.get(topic)
            if old is None or cost > old:
                self.cost_s[topic] = cost
            else:
                self.cost_s[topic] = old + self.smoothing * (cost - old)

    def chunks(self, items: Sequence[T], topic_of: Callable[[T], str]) -> Iterator[Sequence[T]]:
        """Consecutive chunks of `items`, each sized with what was observed so far."""
        start = 0
        while start < len(items):
            end = start + self.size([topic_of(x) for x in items[start:]])
            yield items[start:end]
            start = end


def next_offsets(records: Sequence[ConsumedRecord]) -> dict[TopicPartition, int]:
    """Per partition, the offset after the last of `records` (what a commit stores)."""
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        out[tp] = max(out.get(tp, 0), r.offset + 1)
    return out


def first_offsets(records: Sequence[ConsumedRecord]) -> dict[TopicPartition, int]:
    """Per partition, the earliest offset of `records` (where a rewind seeks to)."""
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        out[tp] = min(out.get(tp, r.offset), r.offset)
    return out


def _topic_of(record: ConsumedRecord) -> str:
    return record.topic


def _kafka_consumer(msg: KafkaMessage) -> AIOKafkaConsumer | None:
    consumer = getattr(msg, "consumer", None)
    return consumer if isinstance(consumer, AIOKafkaConsumer) else None


async def run_in_chunks(
    pacer: ChunkPacer,
    batch: Sequence[R],
    process: Callable[[Sequence[R]], Awaitable[None]],
    msg: KafkaMessage,
) -> tuple[int, Exception | None]:
    """Process `batch` in the pacer's chunks, committing the offsets of every chunk but the last
    (the batch's ack commits that one). Returns how many records were processed and the
    failure that stopped the rest, if any."""
    done = 0
    for chunk in pacer.chunks(batch, _topic_of):
        started = time.perf_counter()
        try:
            await process(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return done, exc
        pacer.observe(time.perf_counter() - started, [r.topic for r in chunk])
        done += len(chunk)
        if done < len(batch):
            await _commit_offsets(msg, batch[:done])
    return done, None


async def _commit_offsets(msg: KafkaMessage, done: Sequence[ConsumedRecord]) -> None:
    """Commit the offsets of the chunks of a batch already committed to the database (the
    rest of the batch is still to come). A failed commit (a rebalance) is only logged: the
    records are redelivered and the inbox absorbs them, as after any lost commit."""
    consumer = _kafka_consumer(msg)
    if consumer is None:
        return  # a test broker's fake consumer: the batch's ack commits
    try:
        await consumer.commit(next_offsets(done))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("could not commit a chunk's offsets (%r); the batch's ack will", exc)


def rewind(msg: KafkaMessage, rest: Sequence[ConsumedRecord]) -> bool:
    """Seek back to the first of `rest` (the records after the committed chunks), so the next
    poll returns them again; False when the consumer cannot seek (a test broker's)."""
    consumer = _kafka_consumer(msg)
    if consumer is None:
        return False
    for tp, offset in first_offsets(rest).items():
        consumer.seek(tp, offset)
    return True
