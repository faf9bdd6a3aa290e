"""Aftersale throughput on a running process: events/s, and CPU per event (service, database).

Used by `bench.pipeline --service aftersale`. The service is started and warmed up first, so
the figure is the steady consume rate, not the start-up (import, group join) the preload
measurement of `bench.pipeline` includes. Two workloads:

- `refunds`: refund requests for orders the shop has not seen (the workload of
  `bench.pipeline`'s aftersale figure: each opens a case and waits for the order's facts);
- `mix`: per refund, the order's change, the request (decided at once: an escalation hands
  off with a summary), a platform change to SUCCESS (resolves the case), and a buyer's
  aftersale question — every hot topic aftersale consumes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.presale_load import cpu_seconds, database_pids, end_total
from devstack import LocalStack
from shared.cloudevents import Record, encode
from shared.contracts import (
    EventPayload,
    MessageClassified,
    OrderChanged,
    OrderItem,
    RefundChanged,
    RefundRequested,
)
from shared.topics import topic, topic_for_model

GROUP = "xiaoer-aftersale"
TOPICS = (
    "trade.order.changed.v1",
    "trade.refund.requested.v1",
    "trade.refund.changed.v1",
    "cs.message.classified.v1",
)
REASONS = ("不想要了", "质量问题", "七天无理由退货", "少件/漏发", "发错货")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def refunds_only(run: str, n: int) -> list[EventPayload]:
    t0 = _now()
    out: list[EventPayload] = []
    for i in range(n):
        out.append(
            RefundRequested(
                shop_id="bench", refund_id=f"{run}-r{i}", order_id=f"{run}-o{i}",
                buyer_id=f"{run}-b{i % 3000}", refund_phase="onsale", has_good_return=False,
                good_status="BUYER_NOT_RECEIVED", reason="不想要了", refund_fee=9900,
                order_total_fee=9900, item_id="i1", requested_at=t0,
                timeout=t0 + timedelta(days=2),
            )
        )  # fmt: skip
    return out


def mix(run: str, n: int) -> list[EventPayload]:
    """n events: n/4 refunds, each with its order, its request, a change, a question."""
    t0 = _now()
    out: list[EventPayload] = []
    for i in range(n // 4):
        shop, buyer, order_id = "bench", f"{run}-b{i % 700}", f"{run}-o{i}"
        refund_id = f"{run}-r{i}"
        shipped = i % 2 == 0
        out.append(
            OrderChanged(
                shop_id=shop, order_id=order_id, buyer_id=buyer,
                status="WAIT_BUYER_CONFIRM_GOODS" if shipped else "WAIT_SELLER_SEND_GOODS",
                total_fee=19900, items=[OrderItem(item_id=f"i{i % 50}", title="连衣裙",
                                                  quantity=1, price=19900)],
                created_at=t0 - timedelta(days=2), consign_time=t0 - timedelta(days=1)
                if shipped else None, changed_at=t0 - timedelta(hours=1),
            )
        )  # fmt: skip
        out.append(
            RefundRequested(
                shop_id=shop, refund_id=refund_id, order_id=order_id, buyer_id=buyer,
                refund_phase="onsale", has_good_return=shipped, good_status="BUYER_RECEIVED"
                if shipped else "BUYER_NOT_RECEIVED", reason=REASONS[i % len(REASONS)],
                refund_fee=9900, order_total_fee=19900, item_id=f"i{i % 50}",
                item_category="apparel", requested_at=t0, timeout=t0 + timedelta(days=2),
            )
        )  # fmt: skip
        out.append(
            MessageClassified(
                shop_id=shop, message_id=f"{run}-m{i}", conversation_id=f"c-{buyer}",
                buyer_id=buyer, intent="refund" if i % 2 else "return_exchange",
                confidence=0.9, stage="aftersale", text_masked="我的退款怎么样了",
                order_id=order_id, sent_at=t0, classified_at=t0,
            )
        )  # fmt: skip
        out.append(
            RefundChanged(
                shop_id=shop, refund_id=refund_id, order_id=order_id, status="SUCCESS",
                cs_status=1, changed_at=t0 + timedelta(minutes=1),
            )
        )  # fmt: skip
    return out


async def publish(bootstrap: str, payloads: Sequence[EventPayload]) -> None:
    records: list[Record] = [encode(topic_for_model(type(p)), p, source="/bench") for p in payloads]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = []
        for r in records:
            headers = [(k, v.encode()) for k, v in r.headers.items()]
            futures.append(
                await producer.send(r.topic, r.value, key=r.key.encode(), headers=headers)
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _committed_all(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP)
    await consumer.start()
    try:
        total = 0
        for name in TOPICS:
            for p in range(topic(name).partitions):
                total += max(await consumer.committed(TopicPartition(name, p)) or 0, 0)
        return total
    finally:
        await consumer.stop()


async def _ends(bootstrap: str) -> int:
    return sum([await end_total(bootstrap, t) for t in TOPICS])


def service_pids(stack: LocalStack) -> list[int]:
    return [p.pid for name, p in stack.services.items() if name == "aftersale" and p.pid]


@dataclass
class Run:
    workload: str
    events: int
    events_per_s: float
    service_cpu_ms_per_event: float
    database_cpu_ms_per_event: float


async def throughput(stack: LocalStack, workload: str, n: int) -> Run:
    """Publish n events at once to the running aftersale (idle before), time until its group
    has committed them all; CPU of aftersale and PostgreSQL meanwhile."""
    run = f"{workload[:3]}{uuid.uuid4().hex[:6]}"
    payloads = refunds_only(run, n) if workload == "refunds" else mix(run, n)
    db_pids = database_pids(stack)
    cpu0, db0 = cpu_seconds(service_pids(stack)), cpu_seconds(db_pids)
    started = time.perf_counter()
    await publish(stack.bootstrap, payloads)
    target = await _ends(stack.bootstrap)
    while await _committed_all(stack.bootstrap) < target:
        await asyncio.sleep(0.05)
    rate = len(payloads) / (time.perf_counter() - started)
    cpu = cpu_seconds(service_pids(stack)) - cpu0
    db = cpu_seconds(db_pids) - db0
    return Run(workload, len(payloads), rate, cpu / len(payloads) * 1000, db / len(payloads) * 1000)


async def warm_up(stack: LocalStack) -> None:
    """Start aftersale and let it handle a first batch (connections, caches, group join)."""
    await stack.start_service("aftersale")
    await throughput(stack, "mix", 400)
