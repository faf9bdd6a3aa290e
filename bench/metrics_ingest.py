"""Metrics: ingest rate as a ratio to raw aiokafka, and the 30-day × 100-agent query time.

One command: `uv run python -m bench.metrics_ingest` (`--quick` for a smaller run). It starts
its own broker and database (devstack, free ports), then in the same run:

1. a generated event log (`tests/metrics/eventlog.py`: chats, hand-offs, CSAT, orders,
   refunds; ~3 % duplicates, late and out-of-order delivery) is published to the topics;
2. raw passthrough: one aiokafka consumer→producer loop in this process reads those topics
   and writes every record to a sink topic (the baseline);
3. metrics ingest: the metrics runtime, in this process, consumes the same topics from the
   beginning with its real consume path (batch → facts → derived tables, one transaction a
   batch), timed from its first batch to the last fact;
4. query: a shop with 100 agents and 30 days of chats is projected straight into the
   database (same projection code, no broker), then `GET .../kpis/agents` and `.../kpis/shop`
   for those 30 days are timed through the HTTP app.

Numbers go to stdout and `bench/results/metrics.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from devstack import LocalStack
from devstack.config import isolated_config
from services.metrics.app import build_runtime
from services.metrics.handlers.facts import FACT_OF, facts_of
from services.metrics.handlers.projection import Projector
from services.metrics.quality.rulebook import RuleBook
from services.metrics.settings import MetricsSettings
from services.metrics.store import tables as store
from shared.cloudevents import Envelope, encode
from shared.db import create_engine
from shared.topics import topic_for_model
from tests.metrics.eventlog import GAP, Event, Generator, delivery
from tests.support.runtime import started

RESULTS = Path(__file__).parent / "results" / "metrics.json"
WINDOW = timedelta(hours=72)


async def publish(bootstrap: str, events: list[Event]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        futures = []
        for e in events:
            r = encode(
                topic_for_model(type(e.payload)), e.payload, source="/bench", event_id=e.event_id
            )
            futures.append(
                await producer.send(
                    r.topic, r.value, key=r.key.encode(),
                    headers=[(k, v.encode()) for k, v in r.headers.items()],
                )
            )  # fmt: skip
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def passthrough(bootstrap: str, n: int) -> dict[str, float]:
    """Raw aiokafka: consume the metrics topics, produce every record to a sink topic."""
    consumer = AIOKafkaConsumer(
        *FACT_OF,
        bootstrap_servers=bootstrap,
        group_id="bench-passthrough",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
        session_timeout_ms=3000,
        heartbeat_interval_ms=1000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await consumer.start()
    await producer.start()
    seen = 0
    first: float | None = None
    try:
        while seen < n:
            batches = await consumer.getmany(timeout_ms=200, max_records=2000)
            futures = []
            for records in batches.values():
                for r in records:
                    futures.append(
                        await producer.send(
                            "bench.passthrough", r.value, key=r.key, headers=list(r.headers)
                        )
                    )
            if futures:
                first = first or time.perf_counter()
                await asyncio.gather(*futures)
                await consumer.commit()
                seen += len(futures)
        elapsed = time.perf_counter() - (first or time.perf_counter())
    finally:
        await producer.stop()
        await consumer.stop()
    return {"events": seen, "seconds": elapsed, "events_per_s": seen / elapsed}


async def metrics_ingest(stack: LocalStack, n_facts: int, n_records: int) -> dict[str, float]:
    settings = MetricsSettings(
        kafka_bootstrap_servers=stack.bootstrap,
        database_url=stack.database_url,
        log_level="WARNING",
    )
    runtime = build_runtime(settings)
    ingest = runtime.dispatcher
    marks: dict[str, float] = {}
    records = 0
    batches = 0
    original = ingest.process

    async def timed(batch: Any) -> None:
        nonlocal records, batches
        marks.setdefault("first", time.perf_counter())
        await original(batch)
        records += len(batch)
        batches += 1
        marks["last"] = time.perf_counter()

    ingest.process = timed  # type: ignore[method-assign]
    engine = create_engine(stack.database_url, "metrics", pool_size=1)
    try:
        async with started(runtime):
            deadline = time.monotonic() + 600
            while records < n_records and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        async with engine.connect() as conn:
            facts = 0
            for t in store.FACTS:
                if t is store.fact_quality_violations:  # findings, not events
                    continue
                facts += (await conn.execute(select(func.count()).select_from(t))).scalar_one()
    finally:
        await engine.dispose()
    elapsed = marks["last"] - marks["first"]
    assert facts == n_facts, f"{facts} facts for {n_facts} unique events"
    return {
        "events": records,
        "facts": facts,
        "batches": batches,
        "seconds": elapsed,
        "events_per_s": records / elapsed,
    }


async def query_time(stack: LocalStack, quick: bool) -> dict[str, Any]:
    """100 agents, 30 days: project the facts directly, then time the API."""
    now = datetime.now(UTC)
    start = (now - timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
    shop = "bench-30d"
    buyers = 6000 if quick else 30000
    log = Generator(shop, start, seed=3, hours=30 * 24, agents=100).generate(buyers)
    rules = RuleBook()
    facts = [
        f
        for e in log.events
        for f in facts_of(
            topic_for_model(type(e.payload)).name,
            e.payload,
            Envelope(e.event_id, "/bench", "t", None, None),
            rules,
        )
    ]
    engine = create_engine(stack.database_url, "metrics", pool_size=2)
    projector = Projector(GAP, WINDOW)
    t0 = time.perf_counter()
    for i in range(0, len(facts), 10_000):
        async with engine.begin() as conn:
            await projector.apply(conn, facts[i : i + 10_000])
    load_s = time.perf_counter() - t0
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
        rounds = (
            await conn.execute(
                select(func.count())
                .select_from(store.conv_rounds)
                .where(store.conv_rounds.c.shop_id == shop)
            )
        ).scalar_one()
    await engine.dispose()
    settings = MetricsSettings(
        kafka_bootstrap_servers=stack.bootstrap,
        database_url=stack.database_url,
        operator_token="bench-operator",
        log_level="WARNING",
    )
    runtime = build_runtime(settings)
    app = runtime.app()
    params = {"from": start.isoformat(), "to": (start + timedelta(days=30)).isoformat()}
    headers = {"Authorization": "Bearer bench-operator"}
    timings: dict[str, list[float]] = {"agents": [], "shop": []}
    agents = 0
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://m"
        ) as client:
            for _ in range(7):
                for name in timings:
                    t = time.perf_counter()
                    r = await client.get(
                        f"/api/v1/shops/{shop}/kpis/{name}", params=params, headers=headers
                    )
                    timings[name].append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()
                    if name == "agents":
                        agents = len(r.json()["agents"])
    finally:
        await runtime.engine.dispose()
    return {
        "events": len(log.events),
        "rounds": rounds,
        "agents_in_answer": agents,
        "projection_load_s": round(load_s, 2),
        "agents_ms_median": round(statistics.median(timings["agents"][1:]), 1),
        "agents_ms_max": round(max(timings["agents"][1:]), 1),
        "shop_ms_median": round(statistics.median(timings["shop"][1:]), 1),
    }


async def main(quick: bool) -> dict[str, Any]:
    buyers = 1100 if quick else 2200
    start = (datetime.now(UTC) - timedelta(days=8)).replace(minute=0, second=0, microsecond=0)
    logs = [Generator(f"bench{s}", start, seed=i).generate(buyers) for i, s in enumerate("AB")]
    events = delivery([e for log in logs for e in log.events], seed=1)
    unique = len({e.event_id for e in events})
    with tempfile.TemporaryDirectory(prefix="xiaoer-bench-") as tmp:
        async with LocalStack(isolated_config(Path(tmp), log_level="WARNING")) as stack:
            print(f"publishing {len(events)} events ({unique} unique) ...", flush=True)
            await publish(stack.bootstrap, events)
            print("raw aiokafka passthrough ...", flush=True)
            raw = await passthrough(stack.bootstrap, len(events))
            print(f"  {raw['events_per_s']:,.0f} events/s", flush=True)
            print("metrics ingest ...", flush=True)
            ingest = await metrics_ingest(stack, unique, len(events))
            print(f"  {ingest['events_per_s']:,.0f} events/s", flush=True)
            print("30-day x 100-agent query ...", flush=True)
            query = await query_time(stack, quick)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "raw_passthrough": raw,
        "metrics_ingest": ingest,
        "ratio_to_raw": round(ingest["events_per_s"] / raw["events_per_s"], 3),
        "query_30d_100_agents": query,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run")
    args = parser.parse_args()
    r = asyncio.run(main(args.quick))
    print()
    print(f"raw aiokafka passthrough : {r['raw_passthrough']['events_per_s']:>10,.0f} events/s")
    print(f"metrics ingest           : {r['metrics_ingest']['events_per_s']:>10,.0f} events/s")
    print(f"ratio                    : {r['ratio_to_raw']:>10.3f}")
    q = r["query_30d_100_agents"]
    print(
        f"30 d x 100 agents query  : agents {q['agents_ms_median']} ms median "
        f"(max {q['agents_ms_max']} ms), shop {q['shop_ms_median']} ms, "
        f"over {q['rounds']:,} rounds from {q['events']:,} events"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    cli()
