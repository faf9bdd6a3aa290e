"""A consumer group of its own for every service a test starts.

With the production group (`xiaoer-<service>`) shared by every test of a run, a service
resumes where the previous test's copy stopped and first reads what other tests published on
its topics since: which tests pass then depends on their order. A test group starts at the
real end of its topics instead: its offsets are committed from outside (as
`ops.metrics_replay` does for the live group) before the service joins, so everything
published after that is read, nothing before. A group that already has offsets (the same
service restarted within a test, after a crash) keeps them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from ops.topology import CONSUMES
from shared.topic_reader import high_watermarks


def new_group(service: str) -> str:
    return f"xiaoer-{service}-test-{uuid.uuid4().hex[:10]}"


async def start_at_end(bootstrap: str, group: str, topics: Iterable[str]) -> None:
    """Commit the real end (high watermark) of every partition the group has no offset for."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # refresh the cluster metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in sorted(set(topics))
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        fresh = [tp for tp in partitions if await consumer.committed(tp) is None]
        if not fresh:
            return
        ends = await high_watermarks(bootstrap, fresh)
        await consumer.commit({tp: OffsetAndMetadata(ends[tp], "") for tp in fresh})
    finally:
        await consumer.stop()


async def service_group_at_end(bootstrap: str, service: str) -> str:
    """A new group for a service process, already positioned at the end of what it reads."""
    group = new_group(service)
    await start_at_end(bootstrap, group, CONSUMES[service])
    return group
