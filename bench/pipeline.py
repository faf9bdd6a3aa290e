"""Service throughput as a ratio to raw aiokafka, and end-to-end latency at a fixed load.

One command: `uv run python -m bench.pipeline` (add `--quick` for a smaller run; `--service
aftersale` measures aftersale alone, see `bench/aftersale_load.py`). It starts its
own broker and database (devstack, free ports), then in the same run:

1. raw passthrough: one aiokafka consumer→producer loop in this process (the baseline);
2. per service, throughput: N events are preloaded on its input topic, the service process is
   started, and the time until its consumer group has committed all of them is measured;
3. end-to-end latency: buyer greetings offered at a fixed rate to the running presale, timed
   from publish to the `cs.reply.requested` that answers each one.

Numbers go to stdout and `bench/results/pipeline.json`.

`--service insale` measures insale alone (raw baseline, the preloaded backlog, then two
backlogs published to the already-running process with its CPU time and PostgreSQL's per
event) and writes `bench/results/pipeline-insale.json` instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench import aftersale_load
from bench import presale_load as load
from devstack import LocalStack
from devstack.config import isolated_config
from shared.cloudevents import Record, encode
from shared.contracts import EventPayload, OrderChanged, OrderItem, RefundRequested
from shared.topic_reader import high_watermarks
from shared.topics import topic, topic_for_model

RESULTS = Path(__file__).parent / "results" / "pipeline.json"
SERVICE_RESULTS = Path(__file__).parent / "results" / "pipeline-{service}.json"
T0 = datetime.now(UTC).replace(microsecond=0)
"""Business times near the services' clock, as in production (else every timer is overdue)."""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


async def produce(bootstrap: str, records: list[Record]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = [
            await producer.send(
                r.topic,
                r.value,
                key=r.key.encode(),
                headers=[(k, v.encode()) for k, v in r.headers.items()],
            )
            for r in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def raw_passthrough(bootstrap: str, n: int) -> float:
    """Events/s of a plain aiokafka consume→produce loop (the baseline)."""
    src, dst = f"bench.raw.{uuid.uuid4().hex[:6]}", f"bench.out.{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(src, 8, 1), NewTopic(dst, 8, 1)])
    await admin.close()
    value = b"x" * 300
    await produce(
        bootstrap, [Record(src, str(i % 500), value, {"ce_id": str(i)}) for i in range(n)]
    )
    consumer = AIOKafkaConsumer(
        src,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
        session_timeout_ms=3000,
        heartbeat_interval_ms=1000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
    await consumer.start()
    await producer.start()
    seen, started = 0, 0.0
    try:
        while seen < n:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            if batches and not started:
                started = time.perf_counter()
            futures = []
            for records in batches.values():
                for r in records:
                    futures.append(
                        await producer.send(dst, r.value, key=r.key, headers=list(r.headers))
                    )
            await asyncio.gather(*futures)
            if futures:
                await consumer.commit()
            seen += len(futures)
        return n / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


async def committed_total(bootstrap: str, group: str, topic_name: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = [TopicPartition(topic_name, p) for p in range(topic(topic_name).partitions)]
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
        return sum(max(o.offset, 0) for o in offsets.values())
    finally:
        await admin.close()


async def end_total(bootstrap: str, topic_name: str) -> int:
    partitions = [TopicPartition(topic_name, p) for p in range(topic(topic_name).partitions)]
    return sum((await high_watermarks(bootstrap, partitions)).values())


async def service_throughput(
    stack: LocalStack, service: str, make: Callable[[int], EventPayload], n: int
) -> float:
    """Preload n events, start the service, time until its group has committed them all."""
    t = topic_for_model(type(make(0)))
    await produce(stack.bootstrap, [encode(t, make(i), source="/bench") for i in range(n)])
    target = await end_total(stack.bootstrap, t.name)
    started = time.perf_counter()
    await stack.start_service(service)
    group = f"xiaoer-{service}"
    while await committed_total(stack.bootstrap, group, t.name) < target:
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    return n / elapsed


def order(i: int) -> OrderChanged:
    return OrderChanged(
        shop_id="bench", order_id=f"o{i}", buyer_id=f"b{i % 3000}", status="WAIT_BUYER_PAY",
        total_fee=19900, items=[OrderItem(item_id="i1", title="连衣裙", quantity=1, price=19900)],
        created_at=T0, changed_at=T0 + timedelta(milliseconds=i), timeout_action_time=T0 + timedelta(days=1),
    )  # fmt: skip


def refund(i: int) -> RefundRequested:
    return RefundRequested(
        shop_id="bench", refund_id=f"r{i}", order_id=f"o{i}", buyer_id=f"b{i % 3000}",
        refund_phase="onsale", has_good_return=False, good_status="BUYER_NOT_RECEIVED",
        reason="不想要了", refund_fee=9900, order_total_fee=9900, item_id="i1",
        requested_at=T0, timeout=T0 + timedelta(days=2),
    )  # fmt: skip


async def main(
    quick: bool, replicas: bool, presale_only: bool, relay: str = "inline"
) -> dict[str, Any]:
    n = 3000 if quick else 10000
    scale = 0.25 if quick else 1.0
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(isolated_config(Path(state), log_level="WARNING"))
        try:
            await stack.start_infra()
            raw = await raw_passthrough(stack.bootstrap, n * 2)
            print(f"raw aiokafka passthrough: {raw:,.0f} events/s")
            services: dict[str, Any] = {}
            if presale_only and RESULTS.exists():
                previous = json.loads(RESULTS.read_text())
                for name, figures in previous.get("services", {}).items():
                    if name != "presale":
                        services[name] = {**figures, "from_run": previous.get("measured_at")}
            for service, make in (("insale", order), ("aftersale", refund)):
                if presale_only:
                    break
                rate = await service_throughput(stack, service, make, n)
                services[service] = {"events_per_s": rate, "ratio_to_raw": rate / raw, "events": n}
                print(f"{service}: {rate:,.0f} events/s = {rate / raw:.3f} × raw")
            presale = await presale_figures(stack, raw, n * 2, scale, replicas, relay)
        finally:
            stack.stop()
    return {
        **run_info(quick),
        "raw_passthrough_events_per_s": raw,
        "services": services,
        "presale": presale,
    }


def run_info(quick: bool) -> dict[str, Any]:
    """What every results file says about the run it comes from."""
    return {
        "measured_at": datetime.now(UTC).isoformat(),
        "quick": quick,
        "machine": "2 cores shared with the broker, PostgreSQL and this benchmark",
    }


async def warm_throughput(
    stack: LocalStack, service: str, make: Callable[[int], EventPayload], first: int, n: int
) -> dict[str, float]:
    """n more events published at once to the running service (idle before): events/s until
    its group has committed them, and the CPU the service and PostgreSQL spent per event."""
    t = topic_for_model(type(make(0)))
    svc_pids = [p for p in [stack.services[service].pid] if p is not None]
    db_pids = load.database_pids(stack)
    cpu0, db0 = load.cpu_seconds(svc_pids), load.cpu_seconds(db_pids)
    started = time.perf_counter()
    await produce(stack.bootstrap, [encode(t, make(first + i), source="/bench") for i in range(n)])
    target = await end_total(stack.bootstrap, t.name)
    while await committed_total(stack.bootstrap, f"xiaoer-{service}", t.name) < target:
        await asyncio.sleep(0.05)
    rate = n / (time.perf_counter() - started)
    cpu = load.cpu_seconds(svc_pids) - cpu0
    db = load.cpu_seconds(db_pids) - db0
    return {"events_per_s": rate, "cpu_ms_per_event": cpu / n * 1000,
            "database_cpu_ms_per_event": db / n * 1000}  # fmt: skip


async def one_service(quick: bool, service: str) -> dict[str, Any]:
    """Insale alone: the preloaded backlog (as in the full run), then two warm backlogs.
    (Aftersale has its own, two workloads: `aftersale_only`.)"""
    make = {"insale": order}[service]
    n = 3000 if quick else 10000
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(isolated_config(Path(state), log_level="WARNING"))
        try:
            await stack.start_infra()
            raw = await raw_passthrough(stack.bootstrap, n * 2)
            print(f"raw aiokafka passthrough: {raw:,.0f} events/s")
            preloaded = await service_throughput(stack, service, make, n)
            print(f"{service} (preloaded, incl. start-up): {preloaded:,.0f} events/s"
                  f" = {preloaded / raw:.3f} × raw")  # fmt: skip
            warm = []
            for run in range(2):
                got = await warm_throughput(stack, service, make, n * (run + 1), n)
                got["ratio_to_raw"] = got["events_per_s"] / raw
                warm.append(got)
                print(
                    f"{service} (running): {got['events_per_s']:,.0f} events/s"
                    f" = {got['ratio_to_raw']:.3f} × raw; CPU per event: {service}"
                    f" {got['cpu_ms_per_event']:.3f} ms, PostgreSQL"
                    f" {got['database_cpu_ms_per_event']:.3f} ms"
                )
        finally:
            stack.stop()
    return {
        **run_info(quick),
        "raw_passthrough_events_per_s": raw,
        "service": service,
        "events": n,
        "preloaded": {"events_per_s": preloaded, "ratio_to_raw": preloaded / raw},
        "running": warm,
    }


async def presale_figures(
    stack: LocalStack, raw: float, n: int, scale: float, replicas: bool, relay: str = "inline"
) -> dict[str, Any]:
    """Every presale target of issue 11, measured twice where it is a rate. `relay="separate"`:
    presale runs with RELAY_MODE=separate beside a `python -m shared.relay` process."""
    if relay == "separate":
        stack.env["RELAY_MODE"] = "separate"
        load.start_relay(stack)
    await stack.start_service("presale")
    await load.throughput(stack, 1000)  # warm-up: KB cache, NLU model, connections
    measured = [await load.throughput(stack, n) for _ in range(2)]  # backlog, then drained
    runs = [m.per_s for m in measured]
    best = max(runs)
    cpu = min(m.presale_cpu_ms_per_message for m in measured)
    db = min(m.database_cpu_ms_per_message for m in measured)
    drained = [m.drained_per_s for m in measured]
    relay_cpu = min(m.relay_cpu_ms_per_message for m in measured)
    print(
        f"presale (relay {relay}): {', '.join(f'{r:,.0f}' for r in runs)} messages/s consumed"
        f" ({', '.join(f'{r:,.0f}' for r in drained)}/s with every event published)"
        f" = {best / raw:.3f} × raw; CPU per message: presale {cpu:.3f} ms (consume path and"
        f" relay; of which the separate relay process {relay_cpu:.3f}), PostgreSQL {db:.3f} ms"
    )
    out: dict[str, Any] = {
        "throughput": {
            "runs_per_s": runs, "drained_runs_per_s": drained, "events": n,
            "ratio_to_raw": best / raw,
            "presale_cpu_ms_per_message": [m.presale_cpu_ms_per_message for m in measured],
            "database_cpu_ms_per_message": [m.database_cpu_ms_per_message for m in measured],
            "relay_mode": relay,
            "relay_process_cpu_ms_per_message": [m.relay_cpu_ms_per_message for m in measured],
            "one_core_capacity_per_s": 1000 / cpu,
        },
        "targets": {"throughput_per_s": 2000, "classified_p50_ms": 40, "classified_p99_ms": 150,
                    "reply_p99_ms": 200, "recovery_s": 10},
    }  # fmt: skip
    await load.outbox_drained(stack)
    idle = await load.idle_cpu(stack)
    out["idle_cpu_share_of_a_core"] = idle
    print(f"presale idle: {idle:.1%} of a core")
    steady = []
    for rate in (100.0, 500.0):
        for _ in range(2):
            await load.outbox_drained(stack)
            got = await load.steady(stack, rate, 60 * scale)
            steady.append(got)
            print(
                "presale at {offered_per_s:.0f}/s for {seconds:.0f} s: received→classified p50"
                " {classified_p50_ms} ms p99 {classified_p99_ms} ms; received→reply p50"
                " {reply_p50_ms} ms p99 {reply_p99_ms} ms ({classified}/{messages})".format(**got)
            )
    out["latency"] = steady
    bursts = []
    for _ in range(2):
        await load.outbox_drained(stack)
        base = min(500.0, best / 2)  # the burst is measured against a load it can carry
        got = await load.burst(stack, base, 2 * best, 20 * scale, 20.0, target_ms=150.0)
        bursts.append(got)
        print(
            "burst {peak_per_s:.0f}/s for {burst_s:.0f} s: lost {lost}, doubled {doubled},"
            " back under 150 ms p99 within {recovered_within_s} s".format(**got)
        )
    out["burst"] = bursts
    if replicas:
        two = await load.two_replicas(stack, n, agents=6, capacity=5)
        two["ratio_to_one"] = two["events_per_s"] / best
        out["two_replicas"] = two
        print(
            f"two replicas: {two['events_per_s']:,.0f} messages/s (one: {best:,.0f});"
            f" rush: {two['rush']}"
        )
    return out


async def aftersale_only(quick: bool) -> dict[str, Any]:
    """Raw passthrough and aftersale on a running process, each workload twice, alternated."""
    n = 3000 if quick else 12000
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(isolated_config(Path(state), log_level="WARNING"))
        try:
            await stack.start_infra()
            raw = [await raw_passthrough(stack.bootstrap, n * 2)]
            print(f"raw aiokafka passthrough: {raw[0]:,.0f} events/s")
            await aftersale_load.warm_up(stack)
            runs = []
            for _ in range(2):
                for workload in ("refunds", "mix"):
                    r = await aftersale_load.throughput(stack, workload, n)
                    runs.append({**r.__dict__, "ratio_to_raw": r.events_per_s / raw[0]})
                    print(
                        f"aftersale {workload}: {r.events_per_s:,.0f} events/s"
                        f" = {r.events_per_s / raw[0]:.3f} × raw; CPU per event: aftersale"
                        f" {r.service_cpu_ms_per_event:.3f} ms, PostgreSQL"
                        f" {r.database_cpu_ms_per_event:.3f} ms"
                    )
            raw.append(await raw_passthrough(stack.bootstrap, n * 2))
            print(f"raw aiokafka passthrough (after): {raw[1]:,.0f} events/s")
        finally:
            stack.stop()
    return {
        **run_info(quick),
        "raw_passthrough_events_per_s": raw,
        "aftersale": runs,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer events (a smoke run)")
    parser.add_argument("--no-replicas", action="store_true", help="skip the two-replica run")
    parser.add_argument(
        "--presale-only", action="store_true", help="keep insale/aftersale from the last results"
    )
    parser.add_argument(
        "--service",
        choices=["insale", "aftersale"],
        help="measure this service alone; writes bench/results/pipeline-<service>.json",
    )
    parser.add_argument("--out", type=Path, help="write the results here instead")
    parser.add_argument(
        "--relay",
        choices=["inline", "separate"],
        default="inline",
        help="presale's outbox relay in its process (default) or as `python -m shared.relay`",
    )
    args = parser.parse_args()
    if args.service == "aftersale":  # two workloads on a running process (bench/aftersale_load)
        result = asyncio.run(aftersale_only(args.quick))
    elif args.service:
        result = asyncio.run(one_service(args.quick, args.service))
    else:
        result = asyncio.run(main(args.quick, not args.no_replicas, args.presale_only, args.relay))
    path = args.out or (
        Path(str(SERVICE_RESULTS).format(service=args.service)) if args.service else RESULTS
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
