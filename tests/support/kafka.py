"""Talking to the real broker from tests: publish CloudEvents, collect what services emit."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.cloudevents import Record, encode
from shared.contracts import EventPayload
from shared.topic_reader import high_watermarks
from shared.topics import topic_for_model


@dataclass(frozen=True)
class Seen:
    topic: str
    key: str | None
    value: bytes
    headers: dict[str, str]

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.value)


class Publisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def event(
        self, payload: EventPayload, *, event_id: str | None = None, source: str = "/tests"
    ) -> Record:
        """Publish an upstream-style CloudEvent; the same event_id twice is a duplicate."""
        record = encode(topic_for_model(type(payload)), payload, source=source, event_id=event_id)
        await self.record(record)
        return record

    async def record(self, record: Record) -> None:
        await self.raw(record.topic, record.value, key=record.key, headers=record.headers)

    async def raw(
        self,
        topic: str,
        value: bytes,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        await self._producer.send_and_wait(
            topic,
            value,
            key=key.encode() if key else None,
            headers=[(k, v.encode()) for k, v in (headers or {}).items()],
        )


@asynccontextmanager
async def publisher(bootstrap: str) -> AsyncIterator[Publisher]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        yield Publisher(producer)
    finally:
        await producer.stop()


@dataclass
class Collector:
    """Everything published on some topics since the collector started, filterable."""

    seen: list[Seen] = field(default_factory=list)
    catch_up: Callable[[float], Awaitable[None]] | None = field(default=None, repr=False)

    def of(self, topic: str, **match: Any) -> list[Seen]:
        out = []
        for s in self.seen:
            if s.topic != topic:
                continue
            try:
                data = s.data
            except ValueError:
                data = {}
            if all(data.get(k) == v for k, v in match.items()):
                out.append(s)
        return out

    async def wait_for(
        self,
        predicate: Callable[[Collector], bool],
        timeout: float = 20.0,
        what: str = "condition",
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what}; saw {len(self.seen)} events"
        )

    async def caught_up(self, timeout: float = 60.0) -> None:
        """Wait until everything on the collected topics now has been read: after the
        services are idle (`tests.support.runtime.idle`), what they published is all here."""
        assert self.catch_up is not None, "a Collector made by collecting()"
        await self.catch_up(timeout)

    async def wait_count(
        self, topic: str, n: int, timeout: float = 20.0, **match: Any
    ) -> list[Seen]:
        await self.wait_for(
            lambda c: len(c.of(topic, **match)) >= n, timeout, f"{n} on {topic} {match}"
        )
        return self.of(topic, **match)


@asynccontextmanager
async def collecting(bootstrap: str, topics: Iterable[str]) -> AsyncIterator[Collector]:
    """Consume the topics from their real end (high watermark), in the background.

    No consumer group: the partitions are assigned by hand, so there are no heartbeats and no
    rebalance. A group member whose event loop is busy (a test computing its expectations)
    misses heartbeats, is evicted, and on rejoining starts again at "latest": everything
    published meanwhile would be silently lost. The start is the fetch's high watermark, not
    ListOffsets (the dev broker answers that with the last batch's base offset, see
    `shared.topic_reader`), so nothing published before the collector started is seen.
    """
    topics = list(topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,  # see an event as soon as it is there: tests measure latencies
    )
    collector = Collector()

    async def pump() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for r in records:
                    collector.seen.append(
                        Seen(
                            r.topic,
                            r.key.decode() if r.key else None,
                            r.value or b"",
                            {k: v.decode(errors="replace") for k, v in r.headers},
                        )
                    )

    await consumer.start()
    task: asyncio.Task[None] | None = None
    try:
        partitions = await _partitions(consumer, topics)
        ends = await high_watermarks(bootstrap, partitions)
        consumer.assign(partitions)
        for tp in partitions:  # resolved now: nothing published after this point is missed
            consumer.seek(tp, ends[tp])
        task = asyncio.create_task(pump())

        async def catch_up(timeout: float) -> None:
            ends = await high_watermarks(bootstrap, partitions)
            deadline = time.monotonic() + timeout
            while behind := [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for the collector to read to the "
                        f"end of {', '.join(sorted({tp.topic for tp in behind}))}"
                    )
                await asyncio.sleep(0.02)

        collector.catch_up = catch_up
        yield collector
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the topics (they are created up front by the stack)."""
    await consumer.topics()  # refresh the cluster metadata
    out = []
    for topic in topics:
        known = consumer.partitions_for_topic(topic)
        if not known:
            raise AssertionError(f"topic {topic} does not exist on the broker")
        out += [TopicPartition(topic, p) for p in sorted(known)]
    return out
