"""Presale under load, measured from outside: throughput, latency at fixed offered loads,
recovery after an overload burst, two replicas on one shop. Used by `bench.pipeline`.

Times are taken in this process: a message's publish time, and when its
`cs.message.classified.v1` / `cs.reply.requested.v1` is read back. The collector fetches with a
5 ms wait: the dev broker holds a fetch for its whole wait even when records arrive, so the
instrument itself would otherwise add up to its wait to every figure (it was 20 ms). The shop is the demo shop, whose KB the stack loads, so the bot really answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devstack import LocalStack
from devstack.config import DEMO_SHOP, service_env
from shared.cloudevents import encode
from shared.contracts import AgentStatusChanged, EventPayload, MessageReceived
from shared.topic_reader import high_watermarks
from shared.topics import topic, topic_for_model

CLASSIFIED = "cs.message.classified.v1"
REPLIED = "cs.reply.requested.v1"
RECEIVED = "cs.message.received.v1"
RELAY_JOB = "presale-relay"
TEXTS = ("亲，在吗？", "这件衣服什么面料的呀", "包邮吗", "有优惠吗", "什么时候发货", "你好")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def now_business() -> datetime:
    return datetime.now(UTC)


@dataclass
class Watch:
    """Publish times of our messages and when their classification and reply came back."""

    run: str
    sent: dict[str, float] = field(default_factory=dict)
    classified: dict[str, float] = field(default_factory=dict)
    classified_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    replied: dict[str, float] = field(default_factory=dict)


class Collector:
    """Reads classified and reply events from the end of the topics while a test runs."""

    def __init__(self, bootstrap: str, watch: Watch) -> None:
        self.watch = watch
        self._consumer = AIOKafkaConsumer(
            CLASSIFIED, REPLIED, bootstrap_servers=bootstrap, group_id=f"bench-{watch.run}",
            auto_offset_reset="latest", session_timeout_ms=3000, heartbeat_interval_ms=1000,
            fetch_max_wait_ms=5, max_partition_fetch_bytes=4 * 1024 * 1024,
        )  # fmt: skip
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Collector:
        await self._consumer.start()
        while not self._consumer.assignment():
            await asyncio.sleep(0.05)
        for tp in self._consumer.assignment():
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _collect(self) -> None:
        w, prefix = self.watch, self.watch.run
        while True:
            batches = await self._consumer.getmany(timeout_ms=20, max_records=5000)
            now = time.perf_counter()
            for tp, records in batches.items():
                for r in records:
                    data = json.loads(r.value)
                    if tp.topic == CLASSIFIED:
                        mid = data.get("message_id", "")
                        if mid.startswith(prefix):
                            w.classified.setdefault(mid, now)
                            ce_id = dict(r.headers).get("ce_id", b"").decode()
                            w.classified_ids[mid].add(ce_id)
                    else:
                        mid = data.get("in_reply_to", "")
                        if mid.startswith(prefix):
                            w.replied.setdefault(mid, now)

    async def wait_all(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.watch.classified) < len(self.watch.sent):
            if time.perf_counter() > deadline:
                return
            await asyncio.sleep(0.1)


def message(run: str, i: int, conversations: int | None = None) -> MessageReceived:
    conv = i if conversations is None else i % conversations
    return MessageReceived(
        shop_id=DEMO_SHOP, message_id=f"{run}-m{i}", conversation_id=f"{run}-c{conv}",
        buyer_id=f"{run}-b{conv}", text=TEXTS[i % len(TEXTS)], sent_at=now_business(),
    )  # fmt: skip


async def offer(
    producer: AIOKafkaProducer, watch: Watch, rate_of: Callable[[float], float], seconds: float,
    make: Callable[[int], EventPayload],
) -> None:  # fmt: skip
    """Publish at `rate_of(elapsed)` messages/s for `seconds`, in 10 ms slices."""
    start = time.perf_counter()
    i, owed = len(watch.sent), 0.0
    t = topic(RECEIVED)
    while (elapsed := time.perf_counter() - start) < seconds:
        owed += rate_of(elapsed) * 0.01
        futures = []
        while owed >= 1:
            owed -= 1
            payload = make(i)
            r = encode(t, payload, source="/bench")
            assert isinstance(payload, MessageReceived)
            watch.sent[payload.message_id] = time.perf_counter()
            futures.append(
                await producer.send(
                    r.topic, r.value, key=r.key.encode(),
                    headers=[(k, v.encode()) for k, v in r.headers.items()],
                )
            )  # fmt: skip
            i += 1
        await asyncio.gather(*futures)
        await asyncio.sleep(max(0.0, start + (elapsed + 0.01) - time.perf_counter()))


def latencies(watch: Watch, ids: list[str] | None = None) -> dict[str, Any]:
    ids = ids if ids is not None else list(watch.sent)
    cls = [(watch.classified[m] - watch.sent[m]) * 1000 for m in ids if m in watch.classified]
    rep = [(watch.replied[m] - watch.sent[m]) * 1000 for m in ids if m in watch.replied]
    return {
        "messages": len(ids),
        "classified": len(cls),
        "replied": len(rep),
        "classified_p50_ms": round(percentile(cls, 50), 1),
        "classified_p99_ms": round(percentile(cls, 99), 1),
        "classified_max_ms": round(max(cls, default=float("nan")), 1),
        "reply_p50_ms": round(percentile(rep, 50), 1),
        "reply_p99_ms": round(percentile(rep, 99), 1),
    }


async def _producer(bootstrap: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
    await producer.start()
    return producer


async def committed(bootstrap: str, group: str, topic_name: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        tps = [TopicPartition(topic_name, p) for p in range(topic(topic_name).partitions)]
        total = 0
        for tp in tps:
            total += max(await consumer.committed(tp) or 0, 0)
        return total
    finally:
        await consumer.stop()


async def end_total(bootstrap: str, topic_name: str) -> int:
    tps = [TopicPartition(topic_name, p) for p in range(topic(topic_name).partitions)]
    return sum((await high_watermarks(bootstrap, tps)).values())


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def service_pids(stack: LocalStack) -> list[int]:
    """The presale processes of the stack (replicas started by this module included)."""
    pids = [p.pid for name, p in {**stack.services, **stack.jobs}.items()
            if name.startswith("presale") and p.pid]  # fmt: skip
    return [pid for pid in pids if pid is not None]


def relay_pids(stack: LocalStack) -> list[int]:
    """The separate outbox relay of presale (`--relay separate`), if it runs."""
    job = stack.jobs.get(RELAY_JOB)
    return [job.pid] if job is not None and job.pid else []


def start_relay(stack: LocalStack) -> Any:
    """Presale's outbox relay as its own process (`python -m shared.relay`, RELAY_MODE=separate):
    presale must run with `RELAY_MODE=separate` in the stack's environment."""
    env = {**service_env(stack.config, stack.env, "presale"),
           "HTTP_PORT": str(stack.config.ports["presale"] + 200)}  # fmt: skip
    return stack.start_job(RELAY_JOB, [sys.executable, "-m", "shared.relay"], env)


def database_pids(stack: LocalStack) -> list[int]:
    """The PostgreSQL postmaster and its children (backends, WAL writer...)."""
    try:
        postmaster = int((stack.config.pg_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


@dataclass
class Throughput:
    per_s: float
    """Consumed: the group committed every message."""
    drained_per_s: float
    """Published: the relay sent every event they emitted."""
    presale_cpu_ms_per_message: float
    """Every presale process: the consume path, and the relay inline or separate."""
    database_cpu_ms_per_message: float
    relay_cpu_ms_per_message: float = 0.0
    """The separate relay process alone (0 when the relay runs inline)."""


async def outbox_drained(stack: LocalStack, timeout: float = 600) -> None:
    """Wait until presale's relay has published everything (latency runs start clean)."""
    dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    deadline = time.perf_counter() + timeout
    try:
        while await conn.fetchval("SELECT count(*) FROM presale.outbox WHERE sent_at IS NULL"):
            if time.perf_counter() > deadline:
                raise TimeoutError("presale's outbox did not drain")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def throughput(stack: LocalStack, n: int) -> Throughput:
    """A backlog of n buyer messages published at once to the running presale (idle before):
    messages/s from the first publish until its group has committed them all, and the CPU time
    presale and PostgreSQL spent on each message meanwhile (the machine is shared, so CPU per
    message is the steadier figure: capacity per core = 1000 / cpu_ms)."""
    db_pids = database_pids(stack)
    cpu0, db0 = cpu_seconds(service_pids(stack)), cpu_seconds(db_pids)
    relay0 = cpu_seconds(relay_pids(stack))
    run = f"tp{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, linger_ms=5,
                                max_batch_size=256 * 1024)  # fmt: skip
    await producer.start()
    t = topic(RECEIVED)
    records = [encode(t, message(run, i, conversations=n // 3), source="/bench") for i in range(n)]
    started = time.perf_counter()
    try:
        futures = [
            await producer.send(r.topic, r.value, key=r.key.encode(),
                                headers=[(k, v.encode()) for k, v in r.headers.items()])
            for r in records
        ]  # fmt: skip
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    target = await end_total(stack.bootstrap, RECEIVED)
    while await committed(stack.bootstrap, "xiaoer-presale", RECEIVED) < target:
        await asyncio.sleep(0.05)
    rate = n / (time.perf_counter() - started)
    await outbox_drained(stack)
    drained = n / (time.perf_counter() - started)
    cpu = cpu_seconds(service_pids(stack)) - cpu0
    db = cpu_seconds(db_pids) - db0  # backends that ended meanwhile are not counted
    relay = cpu_seconds(relay_pids(stack)) - relay0
    return Throughput(rate, drained, cpu / n * 1000, db / n * 1000, relay / n * 1000)


async def idle_cpu(stack: LocalStack, seconds: float = 5.0) -> float:
    """Presale's CPU share of one core while nothing arrives (its fetches, relay and timer
    polls, gauges): what a short fetch wait costs."""
    pids = service_pids(stack)
    cpu0, t0 = cpu_seconds(pids), time.perf_counter()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pids) - cpu0) / (time.perf_counter() - t0)


async def steady(stack: LocalStack, rate: float, seconds: float) -> dict[str, Any]:
    """Buyer messages (each its own conversation) at a fixed rate; latency of each."""
    watch = Watch(f"st{uuid.uuid4().hex[:6]}")
    producer = await _producer(stack.bootstrap)
    async with Collector(stack.bootstrap, watch) as collector:
        await offer(producer, watch, lambda _: rate, seconds, lambda i: message(watch.run, i))
        await collector.wait_all(300)
        await asyncio.sleep(1)  # replies of the last messages
    await producer.stop()
    achieved = len(watch.sent) / seconds
    return {"offered_per_s": rate, "achieved_per_s": round(achieved, 1), "seconds": seconds,
            **latencies(watch)}  # fmt: skip


async def burst(
    stack: LocalStack, base: float, peak: float, seconds: float, after: float, target_ms: float
) -> dict[str, Any]:
    """`base`/s, then `peak`/s for `seconds`, then `base`/s for `after` seconds. Nothing lost or
    doubled (one classification per message, by ce_id); how long after the burst until every
    later second's p99 received → classified is back under `target_ms`."""
    watch = Watch(f"bu{uuid.uuid4().hex[:6]}")
    warm = 5.0
    producer = await _producer(stack.bootstrap)

    def rate(t: float) -> float:
        return peak if warm <= t < warm + seconds else base

    async with Collector(stack.bootstrap, watch) as collector:
        start = time.perf_counter()
        await offer(producer, watch, rate, warm + seconds + after, lambda i: message(watch.run, i))
        await collector.wait_all(120)
        await asyncio.sleep(1)
    await producer.stop()
    burst_end = start + warm + seconds
    per_second: dict[int, list[float]] = defaultdict(list)
    for m, sent in watch.sent.items():
        if sent >= burst_end and m in watch.classified:
            per_second[int(sent - burst_end)].append((watch.classified[m] - sent) * 1000)
    p99s = {s: percentile(v, 99) for s, v in sorted(per_second.items())}
    recovered_at = None
    for s in sorted(p99s):
        if all(p <= target_ms for t, p in p99s.items() if t >= s):
            recovered_at = s
            break
    lost = [m for m in watch.sent if m not in watch.classified]
    doubled = [m for m, ids in watch.classified_ids.items() if len(ids) > 1]
    return {
        "base_per_s": base, "peak_per_s": peak, "burst_s": seconds, "after_s": after,
        "messages": len(watch.sent), "lost": len(lost), "doubled": len(doubled),
        "recovered_within_s": None if recovered_at is None else recovered_at + 1,
        "p99_classified_ms_by_second_after": [round(p, 1) for p in p99s.values()],
    }  # fmt: skip


def start_replica(stack: LocalStack, name: str, port: int) -> Any:
    env = {**service_env(stack.config, stack.env, "presale"), "HTTP_PORT": str(port)}
    return stack.start_job(name, [sys.executable, "-m", "services.presale"], env)


async def two_replicas(stack: LocalStack, n: int, agents: int, capacity: int) -> dict[str, Any]:
    """A second presale replica joins; one shop's agents take hand-offs from both replicas.

    Then: a backlog of n messages (throughput of two), and a rush of hand-off requests on one
    shop whose agents have `agents × capacity` places: no agent over capacity, equal agents'
    assignment counts differ by at most 1."""
    replica = start_replica(stack, "presale-2", stack.config.ports["presale"] + 100)
    await asyncio.sleep(8)  # the group rebalances onto both replicas
    rate = (await throughput(stack, n)).per_s
    shop = f"rush-{uuid.uuid4().hex[:6]}"
    producer = await _producer(stack.bootstrap)
    t0 = now_business()
    for a in range(agents):
        p = AgentStatusChanged(shop_id=shop, agent_id=f"{shop}-a{a}", status="online",
                               skills=["presale"], max_concurrent=capacity, changed_at=t0)  # fmt: skip
        r = encode(topic_for_model(AgentStatusChanged), p, source="/bench")
        await producer.send_and_wait(r.topic, r.value, key=r.key.encode(),
                                     headers=[(k, v.encode()) for k, v in r.headers.items()])  # fmt: skip
    await asyncio.sleep(2)
    buyers = agents * capacity * 2
    futures = []
    for i in range(buyers):
        p = MessageReceived(shop_id=shop, message_id=f"{shop}-m{i}", conversation_id=f"{shop}-c{i}",
                            buyer_id=f"{shop}-b{i}", text="转人工", sent_at=now_business())  # fmt: skip
        r = encode(topic(RECEIVED), p, source="/bench")
        futures.append(await producer.send(r.topic, r.value, key=r.key.encode(),
                                           headers=[(k, v.encode()) for k, v in r.headers.items()]))  # fmt: skip
    await asyncio.gather(*futures)
    await producer.stop()
    target = await end_total(stack.bootstrap, RECEIVED)
    while await committed(stack.bootstrap, "xiaoer-presale", RECEIVED) < target:
        await asyncio.sleep(0.1)
    dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT a.agent_id, a.max_concurrent, a.assigned_total,"
            " (SELECT count(*) FROM presale.conversations c WHERE c.agent_id = a.agent_id"
            "  AND c.state = 'assigned') AS active"
            " FROM presale.agents a WHERE a.shop_id = $1", shop)  # fmt: skip
        states = await conn.fetch(
            "SELECT state, count(*) FROM presale.conversations WHERE shop_id = $1 GROUP BY state",
            shop,
        )
    finally:
        await conn.close()
    replica.stop(10)
    totals = [r["assigned_total"] for r in rows]
    return {
        "events_per_s": rate,
        "rush": {
            "agents": agents, "capacity_each": capacity, "buyers_asking_for_a_human": buyers,
            "over_capacity": sum(1 for r in rows if r["active"] > r["max_concurrent"]),
            "assigned_totals_spread": max(totals) - min(totals) if totals else None,
            "states": {s["state"]: s["count"] for s in states},
        },
    }  # fmt: skip
