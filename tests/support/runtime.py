"""Running a service in-process against the real broker and database, with a fake clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ops.topology import CONSUMES
from shared.db import create_engine
from shared.runtime import ServiceRuntime
from shared.topic_reader import high_watermarks
from tests.support.groups import new_group, start_at_end


@asynccontextmanager
async def started(runtime: ServiceRuntime, timeout: float = 30.0) -> AsyncIterator[ServiceRuntime]:
    """Start consuming, relaying and timers; stop cleanly afterwards.

    A runtime with a test group (`kafka_group_id`, see `tests.support.groups`) starts at the
    end of its topics, unless the group already has offsets (a restart within the test).
    """
    s = runtime.settings
    if s.kafka_group_id and runtime.dispatcher.topics:
        await start_at_end(s.kafka_bootstrap_servers, s.kafka_group_id, runtime.dispatcher.topics)
    task = asyncio.create_task(runtime.start())
    try:
        await asyncio.wait_for(runtime.ready.wait(), timeout)
        yield runtime
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runtime.stop()


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def handled(rt: ServiceRuntime, *event_ids: str, timeout: float = 30.0) -> None:
    """Wait until the service's inbox holds every one of these CloudEvents ids."""
    wanted = list(event_ids)

    async def check() -> bool:
        async with rt.engine.connect() as conn:
            n = (
                await conn.execute(
                    text("SELECT count(*) FROM inbox WHERE event_id = ANY(:ids)"), {"ids": wanted}
                )
            ).scalar_one()
        return n == len(set(wanted))

    await wait_until(check, timeout, f"{len(wanted)} events handled")


async def fire_all(rt: ServiceRuntime) -> int:
    """Fire every due timer, including ones that firing makes due (one batch per call)."""
    total = 0
    while n := await rt.timer_runner.fire_due():
        total += n
    return total


async def group_caught_up(
    bootstrap: str, group: str, topics: Iterable[str], timeout: float = 120.0
) -> None:
    """Wait until the group has committed (handled) everything on its topics now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(t, p)
            for t in sorted(set(topics))
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        consumer.assign(partitions)
        ends = await high_watermarks(bootstrap, partitions)

        async def check() -> bool:
            for tp in partitions:
                committed = await consumer.committed(tp)
                if (committed or 0) < ends[tp]:
                    return False
            return True

        await wait_until(check, timeout, f"group {group} to handle everything on its topics")
    finally:
        await consumer.stop()


async def outbox_drained(engine: AsyncEngine, timeout: float = 120.0) -> None:
    """Wait until the service's relay has published every outbox row."""

    async def check() -> bool:
        async with engine.connect() as conn:
            unsent = await conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
            return unsent.scalar_one() == 0

    await wait_until(check, timeout, "the outbox to be drained")


async def idle(rt: ServiceRuntime, timeout: float = 120.0) -> None:
    """The in-process service has handled everything published so far and published all it
    emitted: a collector that is then `caught_up` holds every output there will be."""
    s = rt.settings
    if rt.dispatcher.topics:
        await group_caught_up(
            s.kafka_bootstrap_servers, s.consumer_group, rt.dispatcher.topics, timeout
        )
    await outbox_drained(rt.engine, timeout)


async def service_idle(stack: Any, name: str, timeout: float = 120.0) -> None:
    """`idle` for a service process of the stack (started by `running_services`)."""
    group = stack.services[name].env.get("KAFKA_GROUP_ID") or f"xiaoer-{name}"
    await group_caught_up(stack.bootstrap, group, CONSUMES[name], timeout)
    engine = create_engine(stack.database_url, name, pool_size=1)
    try:
        await outbox_drained(engine, timeout)
    finally:
        await engine.dispose()


def runtime_settings(infra: Any, service: str, **overrides: Any) -> dict[str, Any]:
    """The settings of an in-process runtime under test: the test stack, quick outbox and
    timer polls, a small pool, and a fresh consumer group that reads only what is published
    from its start; `overrides` last."""
    return {
        "kafka_bootstrap_servers": infra.bootstrap,
        "database_url": infra.database_url,
        "outbox_poll_interval_s": 0.05,
        "timer_poll_interval_s": 0.2,
        "db_pool_size": 4,
        "kafka_group_id": new_group(service),
        **overrides,
    }
