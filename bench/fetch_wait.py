"""Does the broker answer a waiting fetch when a record arrives? `uv run python -m bench.fetch_wait`

Starts a dev broker (Tansu, free port), then for each `fetch_max_wait_ms` a consumer waits at
the end of a topic while a record is produced 10–160 ms later; prints how long each record took
to reach the consumer. Kafka answers a fetch as soon as `fetch_min_bytes` (1) are there, so
every figure would be a few milliseconds; a broker that holds the fetch for its whole wait
shows the rest of the wait instead — the latency floor of every consumer hop at light load.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.broker import Broker
from devstack.procs import free_port


async def delivery_ms(bootstrap: str, topic: str, wait_ms: int, rounds: int = 10) -> list[float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"fw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest", fetch_max_wait_ms=wait_ms,
    )  # fmt: skip
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():
            await asyncio.sleep(0.01)
        for tp in consumer.assignment():
            await consumer.position(tp)
        out = []
        for i in range(rounds):

            async def later(delay: float) -> float:
                await asyncio.sleep(delay)
                sent = time.perf_counter()
                await producer.send_and_wait(topic, b"x")
                return sent

            task = asyncio.create_task(later(0.01 + 0.037 * (i % 5)))
            while not await consumer.getmany(timeout_ms=1000):
                pass
            out.append((time.perf_counter() - await task) * 1000)
        return out
    finally:
        await consumer.stop()
        await producer.stop()


async def main() -> None:
    with tempfile.TemporaryDirectory() as state:
        broker = Broker(free_port(), Path(state) / "broker.log")
        broker.start()
        try:
            await broker.wait_ready()
            topic = f"bench.fetch-wait.{uuid.uuid4().hex[:6]}"
            admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
            await admin.start()
            await admin.create_topics([NewTopic(topic, 1, 1)])
            await admin.close()
            for wait_ms in (500, 50, 10, 5):
                got = await delivery_ms(broker.bootstrap, topic, wait_ms)
                print(f"fetch_max_wait_ms {wait_ms:>3}: delivered after", [round(x) for x in got])
        finally:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
