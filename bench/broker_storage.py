"""The durable dev broker's cost: Tansu on S3 (a local s3rver) against Tansu in memory.

    uv run python -m bench.broker_storage [--records 20000] [--rounds 2]

Both brokers run side by side (devstack's `Broker` and `ObjectStore`, free ports); each round
produces `--records` 300-byte records with keys to a fresh 4-partition topic (acks=1, linger 5
ms, one `send_and_wait` in 50 so the client cannot run ahead), then one consumer group reads
them back, committing after each fetch. Rounds alternate between the brokers, so a noisy
machine weighs on both. Writes bench/results/broker_storage.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.broker import Broker
from devstack.object_store import ObjectStore
from devstack.procs import free_port

RESULTS = Path(__file__).parent / "results" / "broker_storage.json"


async def one_round(bootstrap: str, topic: str, n: int) -> tuple[float, float]:
    """(records/s produced, records/s consumed with a commit per fetch)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 4, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1)
    await producer.start()
    started = time.perf_counter()
    try:
        for i in range(n):
            key = str(i).encode()
            if i % 50 == 0:
                await producer.send_and_wait(topic, b"x" * 300, key=key)
            else:
                await producer.send(topic, b"x" * 300, key=key)
        await producer.flush()
    finally:
        await producer.stop()
    produced = n / (time.perf_counter() - started)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"bench-{topic}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    got, started = 0, time.perf_counter()
    try:
        while got < n and time.perf_counter() - started < 300:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            got += sum(len(v) for v in batches.values())
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()
    return produced, got / (time.perf_counter() - started)


async def run(records: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        root = Path(tmp)
        store = ObjectStore(free_port(), root / "s3", root / "s3.log")
        memory = Broker(free_port(), root / "memory.log")
        durable = Broker(free_port(), root / "durable.log", "s3://tansu/", store.broker_env())
        store.start()
        try:
            store.wait_ready()
            memory.start()
            durable.start()
            await memory.wait_ready()
            await durable.wait_ready()
            figures: dict[str, list[tuple[float, float]]] = {"memory": [], "s3": []}
            for r in range(rounds):
                for name, broker in (("memory", memory), ("s3", durable)):
                    figures[name].append(await one_round(broker.bootstrap, f"b{r}{name}", records))
                    print(f"round {r} {name}: produce {figures[name][-1][0]:,.0f}/s, "
                          f"consume {figures[name][-1][1]:,.0f}/s")  # fmt: skip
        finally:
            memory.stop()
            durable.stop()
            store.stop()

    def med(name: str, i: int) -> float:
        return statistics.median(f[i] for f in figures[name])

    return {
        "records_per_round": records,
        "rounds": rounds,
        "runs": {
            k: [{"produce_per_s": round(p), "consume_per_s": round(c)} for p, c in v]
            for k, v in figures.items()
        },
        "median": {
            k: {"produce_per_s": round(med(k, 0)), "consume_per_s": round(med(k, 1))}
            for k in figures
        },
        "s3_to_memory": {
            "produce": round(med("s3", 0) / med("memory", 0), 3),
            "consume": round(med("s3", 1) / med("memory", 1), 3),
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    out = asyncio.run(run(args.records, args.rounds))
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["median"]), "s3/memory:", out["s3_to_memory"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
