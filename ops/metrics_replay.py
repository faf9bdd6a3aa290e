"""Metrics: rebuild every fact and KPI from the beginning of the topics; compare with live; swap.

An operator's tool, run against a live deployment with the metrics service's configuration
(it ships in the image with the rest of `ops/`: `docker run xiaoer ops.metrics_replay`). It
uses the service's own fact mapping and projection, so a replay is exact by construction.

    python -m ops.metrics_replay                  # rebuild into schema metrics_replay, compare
    python -m ops.metrics_replay --shop S --shop T  # compare only these shops
    python -m ops.metrics_replay --swap           # ... then make the rebuild the live state

The rebuild reads each consumed topic from its first offset up to the end offsets seen when
it starts (no consumer group, nothing committed), through the same fact mapping and
projection as the live service, into fresh tables in `metrics_replay`. Agents' replies are
inspected again with the rules configured now (QUALITY_RULES_DIR): with the rules the live
service ran, quality flags and scores equal live; after a rule change, the comparison shows
what the new rules change, and `--swap` applies them to history. Comparing is a
row-for-row `EXCEPT` of every fact and derived table in both directions: live equals replay
when both read the same events. Bad records are skipped (the live service dead-lettered
them already). `--swap` needs the metrics service stopped: it replaces the live facts and
derived tables with the rebuild in one transaction and sets the `xiaoer-metrics` consumer
group to the offsets the rebuild ended at, so the service resumes exactly after them.
Snapshots already published are kept; later changes revise them as usual.

Exit status: 0 when identical (or swapped), 1 when they differ, 2 on error. Configuration is
the service's own (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, SESSION_GAP, ATTRIBUTION_WINDOW).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.handlers.facts import FACT_OF, Fact, facts_of
from services.metrics.handlers.projection import Projector
from services.metrics.quality.rulebook import RuleBook
from services.metrics.settings import MetricsSettings
from services.metrics.store import tables
from shared.cloudevents import BadEvent, decode, normalize_headers
from shared.db import create_engine
from shared.topics import BY_NAME

REPLAY_SCHEMA = "metrics_replay"
LIVE_SCHEMA = "metrics"
TABLES = [*tables.FACTS, *tables.DERIVED]


@dataclass
class RebuildResult:
    events: int = 0
    skipped: int = 0
    seconds: float = 0.0
    end_offsets: dict[TopicPartition, int] = field(default_factory=dict)


async def create_schema(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(lambda c: tables.metadata.create_all(c, tables=TABLES))


async def rebuild(
    settings: MetricsSettings, schema: str = REPLAY_SCHEMA, batch_records: int = 5000
) -> RebuildResult:
    """Read every consumed topic from the beginning into fresh tables in `schema`."""
    engine = create_engine(settings.database_url, schema, pool_size=2)
    result = RebuildResult()
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_servers,
        enable_auto_commit=False,
        max_poll_records=batch_records,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        await create_schema(engine, schema)
        partitions = [
            TopicPartition(t, p)
            for t in FACT_OF
            for p in sorted(consumer.partitions_for_topic(t) or await _partitions(consumer, t))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        # The end of each partition is its high watermark when the rebuild first fetches from
        # it. (ListOffsets(latest) would be simpler, but the dev broker answers it with the
        # base offset of the last batch, short of the real end.)
        ends: dict[TopicPartition, int] = {}
        todo = set(partitions)
        rules = RuleBook(settings.quality_rules_dir)
        projector = Projector(settings.session_gap, settings.attribution_window, rules)
        while todo:
            batches = await consumer.getmany(*todo, timeout_ms=500, max_records=batch_records)
            for tp in todo:
                hw = consumer.highwater(tp)
                if tp not in ends and hw is not None:
                    ends[tp] = hw
            facts: list[Fact] = []
            for tp, records in batches.items():
                for r in records:
                    if r.offset >= ends.get(tp, r.offset + 1):
                        continue
                    result.events += 1
                    try:  # none: read but not counted (e.g. a non-reminder reply)
                        facts += _facts(r.topic, r.value, r.headers, rules)
                    except BadEvent:
                        result.skipped += 1
            if facts:
                async with engine.begin() as conn:
                    await projector.apply(conn, facts)
            for tp in list(todo):
                if tp in ends and await consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
        result.end_offsets = ends
    finally:
        await consumer.stop()
        await engine.dispose()
    result.seconds = time.perf_counter() - started
    return result


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # topics not yet in the client's metadata
    return consumer.partitions_for_topic(topic) or set()


def _facts(
    topic: str, value: bytes | None, headers: Sequence[tuple[str, bytes]], rules: RuleBook
) -> list[Fact]:
    """The record's facts (none when metrics does not count it); BadEvent when unreadable."""
    envelope, payload = decode(BY_NAME[topic], value, normalize_headers(headers))
    return facts_of(topic, payload, envelope, rules)


async def compare(
    engine: AsyncEngine, shops: Sequence[str] = (), schema: str = REPLAY_SCHEMA
) -> dict[str, tuple[int, int]]:
    """Per table: (rows only in live, rows only in the rebuild). All zeros: identical."""
    out: dict[str, tuple[int, int]] = {}
    async with engine.connect() as conn:
        for table in TABLES:
            cols = ", ".join(f'"{c.name}"' for c in table.c)
            where = "WHERE shop_id = ANY(:shops)" if shops else ""
            params = {"shops": list(shops)} if shops else {}

            counts = []
            for a, b in ((LIVE_SCHEMA, schema), (schema, LIVE_SCHEMA)):
                sql = (
                    f'SELECT count(*) FROM (SELECT {cols} FROM "{a}"."{table.name}" {where} '
                    f'EXCEPT ALL SELECT {cols} FROM "{b}"."{table.name}" {where}) d'
                )
                counts.append((await conn.execute(text(sql), params)).scalar())
            live_only, replay_only = counts
            out[table.name] = (int(live_only or 0), int(replay_only or 0))
    return out


async def swap(
    settings: MetricsSettings, result: RebuildResult, schema: str = REPLAY_SCHEMA
) -> None:
    """Make the rebuild the live state and move the service's offsets to where it ended."""
    engine = create_engine(settings.database_url, LIVE_SCHEMA, pool_size=1)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{LIVE_SCHEMA}"."{t.name}"' for t in TABLES)
            await conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT"))
            for t in TABLES:
                # Columns by name: a migration may have added a column where create_all did not.
                cols = ", ".join(f'"{c.name}"' for c in t.c)
                await conn.execute(text(f'TRUNCATE "{LIVE_SCHEMA}"."{t.name}"'))
                await conn.execute(
                    text(
                        f'INSERT INTO "{LIVE_SCHEMA}"."{t.name}" ({cols}) '
                        f'SELECT {cols} FROM "{schema}"."{t.name}"'
                    )
                )
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_servers,
            group_id=settings.consumer_group,
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            consumer.assign(list(result.end_offsets))
            await consumer.commit(
                {tp: OffsetAndMetadata(off, "") for tp, off in result.end_offsets.items()}
            )
        finally:
            await consumer.stop()
    finally:
        await engine.dispose()


async def main_async(args: argparse.Namespace) -> int:
    settings = MetricsSettings()
    result = await rebuild(settings)
    print(
        f"rebuilt from {result.events} records ({result.skipped} bad, skipped) in "
        f"{result.seconds:.1f}s into schema {REPLAY_SCHEMA}"
    )
    engine = create_engine(settings.database_url, LIVE_SCHEMA, pool_size=1)
    try:
        diff = await compare(engine, args.shop)
    finally:
        await engine.dispose()
    for name, (live_only, replay_only) in diff.items():
        mark = "ok" if live_only == replay_only == 0 else "DIFFERS"
        print(f"  {name:22} live-only {live_only:8}  replay-only {replay_only:8}  {mark}")
    identical = all(a == b == 0 for a, b in diff.values())
    print("replay equals live" if identical else "replay differs from live")
    if args.swap:
        await swap(settings, result)
        print("swapped: the rebuild is now the live state; consumer offsets set to its end")
        return 0
    return 0 if identical else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ops.metrics_replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--shop", action="append", default=[], help="compare only this shop")
    parser.add_argument("--swap", action="store_true", help="replace live with the rebuild")
    try:
        sys.exit(asyncio.run(main_async(parser.parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        print(f"replay failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
