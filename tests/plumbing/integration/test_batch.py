"""The batch pattern (shared/batch.py) on the real database, records handed in in-process.

A tiny logic keeps a tally per conversation of `cs.csat.submitted.v1` ratings; its comment
makes it fail on purpose where a test needs it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.batch import BatchConsumer, Decided, Decision, Item
from shared.clock import FakeClock
from shared.cloudevents import encode
from shared.consumer import RawRecord
from shared.context import Plumbing
from shared.contracts import CsatSubmitted, ReplyRequested
from shared.db import create_engine, new_metadata
from shared.effects import Effects
from shared.ids import derived_id
from shared.plumbing import plumbing_tables
from shared.topics import topic

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
TOPIC = "cs.csat.submitted.v1"


def tables() -> tuple[MetaData, Table]:
    metadata = new_metadata()
    plumbing_tables(metadata)
    tallies = Table(
        "tallies",
        metadata,
        Column("key", String(200), primary_key=True),
        Column("n", Integer, nullable=False),
    )
    return metadata, tallies


@dataclass
class Tally:
    """State of a batch: count per conversation; what changed."""

    counts: dict[str, int]
    changed: set[str] = field(default_factory=set)
    comments: dict[str, str] = field(default_factory=dict)


@dataclass
class TallyLogic:
    tallies: Table
    topics: Sequence[str] = (TOPIC,)
    transient_loads: int = 0
    loads: int = 0

    async def load(self, conn: AsyncConnection, items: Sequence[Item]) -> Tally:
        self.loads += 1
        if self.transient_loads:
            self.transient_loads -= 1
            raise ConnectionResetError("database went away (simulated)")
        keys = sorted({_csat(i).conversation_id for i in items})
        rows = await conn.execute(
            select(self.tallies).where(self.tallies.c.key.in_(keys)).with_for_update()
        )
        return Tally({r.key: r.n for r in rows})

    def decide(self, state: Tally, item: Item, now: datetime) -> Decision[tuple[str, int, str]]:
        c = _csat(item)
        if c.comment == "boom":
            raise ValueError("cannot decide this one")
        effects = Effects()
        effects.emit(
            ReplyRequested(
                shop_id=c.shop_id, reply_request_id=derived_id(item.envelope.id, "thanks"),
                conversation_id=c.conversation_id, buyer_id=c.buyer_id, text="谢谢",
                kind="notification", sender="system", requested_by="probe", requested_at=now,
            )
        )  # fmt: skip
        if c.comment == "remind":
            effects.arm("remind", c.conversation_id, now + timedelta(hours=1))
        effects.count("tallied")
        n = state.counts.get(c.conversation_id, 0) + 1
        return Decision((c.conversation_id, n, c.comment or ""), effects)

    def apply(self, state: Tally, decision: Decision[tuple[str, int, str]]) -> None:
        key, n, comment = decision.changes
        state.counts[key] = n
        state.changed.add(key)
        state.comments[key] = comment

    async def settle(
        self,
        conn: AsyncConnection,
        state: Tally,
        decided: Sequence[Decided[tuple[str, int, str]]],
        now: datetime,
    ) -> None:
        return None

    async def save(self, conn: AsyncConnection, state: Tally) -> None:
        if "save-boom" in state.comments.values():
            raise ValueError("cannot save this one")
        if not state.changed:
            return
        stmt = insert(self.tallies).values(
            [{"key": k, "n": state.counts[k]} for k in sorted(state.changed)]
        )
        await conn.execute(stmt.on_conflict_do_update(index_elements=["key"],
                                                      set_={"n": stmt.excluded.n}))  # fmt: skip


def _csat(item: Item) -> CsatSubmitted:
    assert isinstance(item.payload, CsatSubmitted)
    return item.payload


@pytest.fixture
async def db(infra: Any) -> AsyncIterator[tuple[AsyncEngine, Plumbing, Table]]:
    schema = f"batch_{uuid.uuid4().hex[:10]}"
    metadata, tallies = tables()
    engine = create_engine(infra.database_url, schema, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(metadata.create_all)
    t = metadata.tables
    yield engine, Plumbing(schema, t["inbox"], t["outbox"], t["timers"]), tallies
    await engine.dispose()


class Feed:
    """Kafka records as the consumer would hand them over, with growing offsets."""

    def __init__(self) -> None:
        self.offset = 0

    def record(
        self,
        conversation: str,
        comment: str | None = None,
        *,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
        value: bytes | None = None,
    ) -> RawRecord:
        payload = CsatSubmitted(
            shop_id="shop-b", conversation_id=conversation, buyer_id="buyer-1", rating=5,
            comment=comment, submitted_at=NOW,
        )  # fmt: skip
        r = encode(topic(TOPIC), payload, source="/tests", event_id=event_id)
        self.offset += 1
        return RawRecord(
            TOPIC, 0, self.offset, r.key.encode(), value if value is not None else r.value,
            {**r.headers, **(headers or {})},
        )  # fmt: skip


def consumer(engine: AsyncEngine, plumbing: Plumbing, logic: TallyLogic) -> BatchConsumer[Any, Any]:
    return BatchConsumer(engine, plumbing, FakeClock(NOW), logic, max_backoff_s=0.05)


async def counts(engine: AsyncEngine, tallies: Table) -> dict[str, int]:
    async with engine.connect() as conn:
        return {r.key: r.n for r in await conn.execute(select(tallies))}


async def outbox_rows(engine: AsyncEngine, plumbing: Plumbing) -> list[Any]:
    async with engine.connect() as conn:
        o = plumbing.outbox
        return list(await conn.execute(select(o.c.topic, o.c.key, o.c.headers).order_by(o.c.id)))


async def test_a_batch_is_decided_in_order_and_saved_once(db) -> None:  # type: ignore[no-untyped-def]
    engine, plumbing, tallies = db
    feed, logic = Feed(), TallyLogic(tallies)
    batch = consumer(engine, plumbing, logic)
    same = feed.record("c1", event_id="same-event")
    await batch.process([feed.record("c1"), feed.record("c2"), same, feed.record("c1"), same])
    assert await counts(engine, tallies) == {"c1": 3, "c2": 1}
    assert [r.topic for r in await outbox_rows(engine, plumbing)] == ["cs.reply.requested.v1"] * 4
    await batch.process([same, feed.record("c2")])  # a redelivery changes nothing
    assert await counts(engine, tallies) == {"c1": 3, "c2": 2}
    assert logic.loads == 2


async def test_a_decision_that_raises_dead_letters_only_its_record(db) -> None:  # type: ignore[no-untyped-def]
    engine, plumbing, tallies = db
    feed = Feed()
    batch = consumer(engine, plumbing, TallyLogic(tallies))
    bad_json = feed.record("c9", value=b"{not json")
    await batch.process([feed.record("c1"), feed.record("c2", "boom"), feed.record("c2"), bad_json])
    assert await counts(engine, tallies) == {"c1": 1, "c2": 1}
    topics = sorted(r.topic for r in await outbox_rows(engine, plumbing))
    assert topics == [TOPIC + ".dlq", TOPIC + ".dlq", *["cs.reply.requested.v1"] * 2]


async def test_a_failing_save_falls_back_to_smaller_groups(db) -> None:  # type: ignore[no-untyped-def]
    engine, plumbing, tallies = db
    feed = Feed()
    logic = TallyLogic(tallies)
    batch = consumer(engine, plumbing, logic)
    records = [feed.record(f"c{i}", "save-boom" if i == 5 else None) for i in range(8)]
    await batch.process(records)
    assert await counts(engine, tallies) == {f"c{i}": 1 for i in range(8) if i != 5}
    rows = await outbox_rows(engine, plumbing)
    [dead] = [r for r in rows if r.topic.endswith(".dlq")]
    assert dead.key == "c5"
    assert "cannot save" in dead.headers["x-dlq-reason"]
    await batch.process(records[5:6])  # redelivered: already dead-lettered, not twice
    assert len(await outbox_rows(engine, plumbing)) == len(rows)


async def test_transient_failures_are_retried_not_dead_lettered(db) -> None:  # type: ignore[no-untyped-def]
    engine, plumbing, tallies = db
    feed = Feed()
    logic = TallyLogic(tallies, transient_loads=2)
    await consumer(engine, plumbing, logic).process([feed.record("c1"), feed.record("c2")])
    assert await counts(engine, tallies) == {"c1": 1, "c2": 1}
    assert logic.loads == 3
    assert not [r for r in await outbox_rows(engine, plumbing) if r.topic.endswith(".dlq")]


async def test_traces_survive_batching(db, spans: InMemorySpanExporter) -> None:  # type: ignore[no-untyped-def]
    """A batch span linked to every record; a span per record in the record's own trace;
    the record's events and timers carry that span's context."""
    engine, plumbing, tallies = db
    feed = Feed()
    upstream = TracerProvider().get_tracer("upstream")
    records, trace_ids = [], []
    for conv in ("t1", "t2"):
        with upstream.start_as_current_span("buyer message") as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            trace_ids.append(span.get_span_context().trace_id)
            records.append(feed.record(conv, "remind", headers=carrier))
    spans.clear()
    await consumer(engine, plumbing, TallyLogic(tallies)).process(records)

    finished = spans.get_finished_spans()
    [batch] = [s for s in finished if s.name == f"process {TOPIC}" and not s.parent]
    assert batch.kind == SpanKind.CONSUMER
    assert {link.context.trace_id for link in batch.links} == set(trace_ids)
    per_record = {
        s.context.trace_id: s for s in finished if s.name == f"process {TOPIC}" and s.parent
    }
    assert set(per_record) == set(trace_ids)
    first = per_record[trace_ids[0]]
    assert first.kind == SpanKind.CONSUMER
    attributes = dict(first.attributes or {})
    assert attributes["messaging.destination.name"] == TOPIC
    assert attributes["messaging.destination.partition.id"] == "0"
    assert attributes["messaging.kafka.offset"] == records[0].offset
    assert attributes["messaging.message.id"] == dict(records[0].headers)["ce_id"]  # type: ignore[arg-type]
    assert attributes["xiaoer.shop_id"] == "shop-b"
    assert attributes["xiaoer.conversation_id"] == "t1"
    assert "buyer-1" not in json.dumps({k: str(v) for k, v in attributes.items()})

    replies = {r.key: r.headers for r in await outbox_rows(engine, plumbing)}
    span_id = format(first.context.span_id, "016x")
    assert replies["t1"]["traceparent"].split("-")[2] == span_id
    async with engine.connect() as conn:
        timers = {
            r.key: r.traceparent
            for r in await conn.execute(
                select(plumbing.timers.c.key, plumbing.timers.c.traceparent)
            )
        }
    assert timers["t1"].split("-")[2] == span_id
    assert timers["t2"].split("-")[1] == format(trace_ids[1], "032x")
