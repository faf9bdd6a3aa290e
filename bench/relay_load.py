"""The outbox relay alone: CPU per event and events/s, batched per partition against row by row.

`uv run python -m bench.relay_load [--events 10000] [--rounds 2]`

It starts its own broker and database (devstack, free ports), fills an outbox with presale-like
replies (each stored with the trace context of the span that emitted it, as a handler does),
and drains it with `OutboxRelay` in this process, alternating the two publish paths of
`shared/publishing.py`: `publish_many` (one `send_batch` per topic-partition and pass, what
services use) and `publish` (one `send` per row, the fallback). Tracing is on (spans created,
not exported), as in the services. CPU is this process's (`time.process_time`): the relay's
own cost, without the consume path. Writes `bench/results/relay.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opentelemetry import trace
from sqlalchemy import text

from bench.pipeline import run_info
from devstack import LocalStack
from devstack.config import isolated_config
from shared.broker import make_broker
from shared.cloudevents import Record, encode
from shared.contracts import ReplyRequested
from shared.db import create_engine, new_metadata
from shared.outbox import OutboxRelay, enqueue, with_current_trace
from shared.plumbing import plumbing_tables
from shared.publishing import KafkaPublisher
from shared.settings import CommonSettings
from shared.telemetry import setup_tracing
from shared.topics import topic

RESULTS = Path(__file__).parent / "results" / "relay.json"
SHARDS = 16


def replies(run: str, n: int) -> list[Record]:
    t = topic("cs.reply.requested.v1")
    tracer = trace.get_tracer("bench")
    out = []
    for i in range(n):
        with tracer.start_as_current_span("handler"):
            payload = ReplyRequested(
                shop_id="bench", reply_request_id=f"{run}-{i}", conversation_id=f"{run}-c{i % 3000}",
                buyer_id="b", text="亲，这件是纯棉的，包邮哦～" * 3, kind="auto_answer",
                requested_by="bot", requested_at=datetime.now(UTC),
            )  # fmt: skip
            r = encode(t, payload, source="/xiaoer/presale")
            out.append(Record(r.topic, r.key, r.value, with_current_trace(r.headers)))
    return out


async def measure(events: int, rounds: int) -> dict[str, Any]:
    setup_tracing("xiaoer-bench-relay", exporter=None)
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(isolated_config(Path(state), log_level="WARNING"))
        try:
            await stack.start_infra()
            schema = f"relay_{uuid.uuid4().hex[:8]}"
            metadata = new_metadata()
            _, outbox, _ = plumbing_tables(metadata)
            engine = create_engine(stack.database_url, schema, pool_size=2)
            async with engine.begin() as conn:
                await conn.execute(text(f"CREATE SCHEMA {schema}"))
                await conn.run_sync(metadata.create_all)
            settings = CommonSettings(
                service_name=f"xiaoer-{schema}", kafka_bootstrap_servers=stack.bootstrap
            )
            broker = make_broker(settings)
            await broker.start()
            publisher = KafkaPublisher(
                broker, trace.get_tracer("xiaoer.relay"), settings.kafka_max_request_bytes
            )
            runs: list[dict[str, Any]] = []
            try:
                for n in range(rounds * 2 + 1):
                    path = "batched" if n % 2 == 0 else "row by row"
                    records = replies(f"r{n}", events)
                    async with engine.begin() as conn:
                        for i in range(0, events, 500):
                            await enqueue(conn, outbox, records[i : i + 500], SHARDS)
                    relay = OutboxRelay(
                        engine, outbox, publisher.publish, lock_space=f"{schema}.outbox",
                        shards=SHARDS,
                        publish_many=publisher.publish_many if path == "batched" else None,
                    )  # fmt: skip
                    cpu0, t0 = time.process_time(), time.perf_counter()
                    while await relay.relay_once():
                        pass
                    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
                    if n == 0:
                        continue  # warm-up: connections, metadata, partition cache
                    got = {"path": path, "events": events, "events_per_s": events / wall,
                           "cpu_us_per_event": cpu / events * 1e6}  # fmt: skip
                    runs.append(got)
                    print(
                        f"{path:>10}: {got['events_per_s']:,.0f} events/s,"
                        f" {got['cpu_us_per_event']:.1f} µs CPU per event (this process)"
                    )
            finally:
                await broker.stop()
                await engine.dispose()
        finally:
            stack.stop()
    return {**run_info(False), "runs": runs}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs after a warm-up")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = asyncio.run(measure(args.events, args.rounds))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
