"""Reading topics from the beginning to their real end, for tools (dead letters, summaries).

The end is the high watermark that fetch responses report. `end_offsets()` (ListOffsets) is not
enough: the dev broker answers it with the base offset of the last record batch, short of the
real end when that batch holds several records.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


async def read_to_end(
    bootstrap: str, topics: Iterable[str], timeout_s: float = 30.0
) -> list[ConsumerRecord]:
    """Every record now on the topics (no consumer group, nothing committed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        await consumer.topics()  # refresh the cluster metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        out: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout_s
        while True:
            batches = await consumer.getmany(*partitions, timeout_ms=200)
            for records in batches.values():
                out.extend(records)
            if all([await _at_end(consumer, tp) for tp in partitions]):
                return out
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {', '.join(sorted(set(topics)))} to the end")
    finally:
        await consumer.stop()


async def high_watermarks(
    bootstrap: str, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The real end of each partition, from a fetch response (see the module docstring)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50,
        max_partition_fetch_bytes=1,
    )  # fmt: skip
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:  # fetch from the reported end: the response carries the watermark
            consumer.seek(tp, ends[tp])
        deadline = time.monotonic() + 10
        while any(consumer.highwater(tp) is None for tp in partitions):
            await consumer.getmany(*partitions, timeout_ms=100)
            if time.monotonic() > deadline:
                raise TimeoutError("no fetch response carried a high watermark")
        return {tp: int(consumer.highwater(tp) or 0) for tp in partitions}
    finally:
        await consumer.stop()


async def _at_end(consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
    high = consumer.highwater(tp)
    return high is not None and await consumer.position(tp) >= high
