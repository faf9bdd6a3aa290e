"""The relay's batched path (one batch per topic-partition and pass, `shared/publishing.py`):
nothing lost, nothing published twice, each key in order, and a failure in a batch of sends
settles only what it must — the culprit is parked, a failing partition waits, the rest go on.

The first test runs on the real broker with the services' own publisher; the others give the
relay a scripted broker, so that a batch can be refused, fail transiently or be cut short.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from probe_service import build_probe, probe_metadata
from sqlalchemy import select

from shared.broker import make_broker
from shared.cloudevents import Record, encode
from shared.contracts import ReplyRequested
from shared.outbox import Deferred, OutboxRelay, enqueue, with_current_trace
from shared.publishing import KafkaPublisher, parent_of
from shared.settings import CommonSettings
from shared.topics import topic
from tests.support.kafka import collecting
from tests.support.runtime import wait_until

REPLIES = "cs.reply.requested.v1"
NOW = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
SHARDS = 8


def reply(shop: str, key: int, n: int, text: str | None = None) -> Record:
    payload = ReplyRequested(
        shop_id=shop,
        reply_request_id=f"{shop}-{key}-{n}",
        conversation_id=f"{shop}-c{key}",
        buyer_id="b",
        text=str(n),
        kind="notification",
        requested_by="probe",
        requested_at=NOW,
    )
    if text is not None:  # beyond the contract's limit on purpose: a row the broker refuses
        payload = payload.model_copy(update={"text": text})
    return encode(topic(REPLIES), payload, source="/t")


def per_key(records: Sequence[Record]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for r in records:
        out[r.key].append(int(json.loads(r.value)["text"]))
    return out


async def outbox_rows(engine, outbox) -> list:  # type: ignore[no-untyped-def,type-arg]
    async with engine.connect() as conn:
        return list(await conn.execute(select(outbox).order_by(outbox.c.id)))


async def drain(relay: OutboxRelay) -> None:
    idle = 0
    while idle < 2:  # a pass that only failed transiently sends nothing: try once more
        idle = 0 if await relay.relay_once() else idle + 1


async def test_batched_relay_on_the_broker_parks_only_the_too_large_row_and_traces_each_event(
    infra, schema, probe_db, spans: InMemorySpanExporter
) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    big_key = 3
    before = [reply(shop, k, n) for n in range(4) for k in range(10)]
    big = reply(shop, big_key, 99, text="大" * 600_000)  # ~1.8 MB of JSON
    after = [reply(shop, k, n) for n in range(4, 8) for k in range(10)]
    async with probe_db.begin() as conn:
        # as a handler stores them: with the trace context of the span that emitted them
        with trace.get_tracer("test").start_as_current_span("handler") as handler:
            stored = [
                Record(r.topic, r.key, r.value, with_current_trace(r.headers))
                for r in (*before, big, *after)
            ]
        await enqueue(conn, outbox, stored, SHARDS)
    spans.clear()

    # The services' publisher on a broker of its own: no consumer (a probe's would answer
    # earlier tests' events into this outbox meanwhile).
    settings = CommonSettings(
        service_name=f"xiaoer-{schema}", kafka_bootstrap_servers=infra.bootstrap
    )
    broker = make_broker(settings)
    publisher = KafkaPublisher(
        broker, trace.get_tracer("xiaoer.relay"), settings.kafka_max_request_bytes
    )
    async with collecting(infra.bootstrap, [REPLIES]) as col:
        await broker.start()
        try:
            relay = OutboxRelay(
                probe_db,
                outbox,
                publisher.publish,
                lock_space=schema,
                shards=SHARDS,
                batch_size=24,
                publish_many=publisher.publish_many,
            )
            await drain(relay)
            await col.wait_count(REPLIES, 80, shop_id=shop)
            await col.caught_up()
        finally:
            await broker.stop()
        seen = col.of(REPLIES, shop_id=shop)
    counts = Counter(s.data["reply_request_id"] for s in seen)
    assert set(counts) == {f"{shop}-{k}-{n}" for k in range(10) for n in range(8)}
    assert set(counts.values()) == {1}, "every row published exactly once"
    for k in range(10):
        assert [int(s.data["text"]) for s in seen if s.key == f"{shop}-c{k}"] == list(range(8))

    async def settled() -> bool:
        rows = await outbox_rows(probe_db, outbox)
        return all(r.sent_at is not None or r.parked_at is not None for r in rows)

    await wait_until(settled, 20, "every outbox row sent or parked")
    rows = await outbox_rows(probe_db, outbox)
    parked = [r for r in rows if r.parked_at is not None]
    assert [bytes(r.value) for r in parked] == [big.value]
    assert parked[0].park_reason.startswith("too_large: ")
    assert relay.stats.published == 80
    assert relay.stats.parked == 1

    # Each event went out under a `<topic> publish` span of its own, child of the handler's
    # span, and the record carries that span's context (the consumer's parent).
    publish_spans = {
        s.context.span_id: s
        for s in spans.get_finished_spans()
        if s.name == f"{REPLIES} publish" and s.instrumentation_scope.name == "xiaoer.relay"  # type: ignore[union-attr]
    }
    handler_context = handler.get_span_context()
    for s in seen:
        parent = parent_of(s.headers)
        assert parent is not None
        assert parent.trace_id == handler_context.trace_id
        span = publish_spans[parent.span_id]
        assert span.parent is not None
        assert span.parent.span_id == handler_context.span_id
        assert span.attributes is not None
        assert span.attributes["messaging.message.id"] == s.headers["ce_id"]


class ScriptedBroker:
    """A broker for the relay: `partitions` partitions by key, a log per partition, and a
    script that decides what happens to each batch (`on_batch`) or record (`on_record`)."""

    def __init__(
        self,
        partitions: int = 4,
        on_batch: Callable[[int, int, list[Record]], Exception | None] | None = None,
        on_record: Callable[[Record], Exception | None] | None = None,
        batch_limit: int | None = None,
    ) -> None:
        self.partitions = partitions
        self.on_batch = on_batch or (lambda call, partition, records: None)
        self.on_record = on_record or (lambda record: None)
        self.batch_limit = batch_limit
        self.log: list[Record] = []
        self.calls = 0

    def partition(self, record: Record) -> int:
        return zlib.crc32(record.key.encode()) % self.partitions

    async def publish(self, record: Record) -> Awaitable[object]:
        """The one-record path: the broker takes it unless `on_record` says otherwise."""
        failure = self.on_record(record)
        ack: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if failure is None:
            self.log.append(record)
            ack.set_result(None)
        else:
            ack.set_exception(failure)
        await asyncio.sleep(0)
        return ack

    async def publish_many(self, records: Sequence[Record]) -> list[Awaitable[object] | Exception]:
        self.calls += 1
        by_partition: dict[int, list[int]] = defaultdict(list)
        out: list[Awaitable[object] | Exception] = []
        for i, record in enumerate(records):
            p = self.partition(record)
            if self.batch_limit is not None and len(by_partition[p]) >= self.batch_limit:
                out.append(Deferred())
            elif (failure := self.on_record(record)) is not None and isinstance(
                failure, MessageSizeTooLargeError
            ):
                out.append(failure)  # refused before sending, as the producer's size check
            else:
                by_partition[p].append(i)
                out.append(None)  # type: ignore[arg-type]  # filled in below
        loop = asyncio.get_running_loop()
        for p, members in by_partition.items():
            batch = [records[i] for i in members]
            ack: asyncio.Future[object] = loop.create_future()
            failure = self.on_batch(self.calls, p, batch)
            if failure is None:
                self.log.extend(batch)
                ack.set_result(None)
            else:
                ack.set_exception(failure)
            for i in members:
                out[i] = ack
        await asyncio.sleep(0)
        return out


async def test_a_batch_the_broker_refuses_is_resent_row_by_row_and_only_its_culprit_parked(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    """A broker whose limit is below the producer's refuses the whole batch that holds a large
    record: the relay sends that batch's rows one by one, in order; only the culprit is parked,
    nothing is published twice, every key keeps its order."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    records = [reply(shop, k, n) for n in range(6) for k in range(12)]
    culprit = records[30]
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, records, SHARDS)

    def refuse_batches_with_the_culprit(call: int, p: int, batch: list[Record]) -> Exception | None:
        if any(r.value == culprit.value for r in batch):
            return MessageSizeTooLargeError("the broker refused the batch")
        return None

    broker = ScriptedBroker(on_batch=refuse_batches_with_the_culprit)

    async def publish_one(record: Record) -> Awaitable[object]:
        if record.value == culprit.value:
            ack: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            ack.set_exception(MessageSizeTooLargeError("over the broker's limit"))
            return ack
        return await broker.publish(record)

    relay = OutboxRelay(
        probe_db,
        outbox,
        publish_one,
        lock_space=schema,
        shards=SHARDS,
        batch_size=48,
        publish_many=broker.publish_many,
    )
    await drain(relay)
    ids = Counter(json.loads(r.value)["reply_request_id"] for r in broker.log)
    assert len(broker.log) == len(records) - 1
    assert set(ids.values()) == {1}
    assert json.loads(culprit.value)["reply_request_id"] not in ids
    expected = {r.key: [] for r in records}  # type: ignore[var-annotated]
    for r in records:
        if r is not culprit:
            expected[r.key].append(int(json.loads(r.value)["text"]))
    assert per_key(broker.log) == expected
    rows = await outbox_rows(probe_db, outbox)
    parked = [r for r in rows if r.parked_at is not None]
    assert [bytes(r.value) for r in parked] == [culprit.value]
    assert parked[0].park_reason.startswith("too_large: ")
    assert all(r.sent_at is not None for r in rows if r.parked_at is None)


async def test_a_partition_whose_batch_fails_transiently_waits_and_keeps_its_order(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    """The broker loses one partition's batch (a transient error) in the first two passes: that
    partition's rows stay pending — none parked — while the other partitions' rows are marked
    sent; once the broker is back, they go out in order, each once."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    records = [reply(shop, k, n) for n in range(5) for k in range(16)]
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, records, SHARDS)
    broker = ScriptedBroker(
        on_batch=lambda call, p, batch: (
            KafkaConnectionError("leader moved") if call <= 2 and p == 0 else None
        )
    )
    failing = [r for r in records if broker.partition(r) == 0]
    assert failing
    assert len(failing) < len(records)
    relay = OutboxRelay(
        probe_db,
        outbox,
        broker.publish,
        lock_space=schema,
        shards=SHARDS,
        batch_size=1000,
        publish_many=broker.publish_many,
    )
    assert await relay.relay_once() == len(records) - len(failing)
    assert await relay.backlog() == len(failing)
    assert await relay.parked() == 0
    assert await relay.relay_once() == 0
    assert await relay.backlog() == len(failing)
    await drain(relay)
    assert await relay.backlog() == 0
    assert await relay.parked() == 0
    ids = Counter(json.loads(r.value)["reply_request_id"] for r in broker.log)
    assert len(ids) == len(records)
    assert set(ids.values()) == {1}
    assert per_key(broker.log) == per_key(records)


async def test_rows_deferred_by_a_full_batch_go_out_later_in_order_with_relays_racing(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    """Batches that hold only 3 records per partition: the rest of a pass's rows are deferred to
    later passes. Three relays race on the outbox: every row once, every key in order."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    records = [reply(shop, k, n) for n in range(20) for k in range(30)]
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, records, 4)
    broker = ScriptedBroker(partitions=6, batch_limit=3)
    relays = [
        OutboxRelay(
            probe_db,
            outbox,
            broker.publish,
            lock_space=f"{schema}.outbox",
            shards=4,
            batch_size=40,
            publish_many=broker.publish_many,
        )
        for _ in range(3)
    ]
    await asyncio.gather(*(drain(r) for r in relays))
    while await relays[0].backlog():  # a relay that found every shard locked stopped early
        await drain(relays[0])
    ids = Counter(json.loads(r.value)["reply_request_id"] for r in broker.log)
    assert len(ids) == len(records)
    assert set(ids.values()) == {1}
    assert per_key(broker.log) == per_key(records)
    assert sum(r.stats.published for r in relays) == len(records)


async def test_a_separate_relay_process_publishes_what_the_service_commits_woken_by_notify(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    """RELAY_MODE=separate: the service only writes its outbox and NOTIFYs after each commit;
    the relay (`python -m shared.relay`, here in-process) publishes at once — its poll is set to
    a minute, so only the notification can have woken it — and the service publishes nothing."""
    from shared.contracts import CsatSubmitted
    from shared.relay import RelayProcess
    from shared.settings import CommonSettings
    from tests.support.kafka import publisher
    from tests.support.runtime import started

    shop = f"shop-{uuid.uuid4().hex[:8]}"
    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema, relay_mode="separate")
    relay = RelayProcess(
        CommonSettings(
            service_name=f"xiaoer-{schema}",
            kafka_bootstrap_servers=infra.bootstrap,
            database_url=infra.database_url,
            outbox_poll_interval_s=60.0,
        )
    )
    assert runtime.notifier is not None
    await relay.start()
    try:
        async with (
            collecting(infra.bootstrap, [REPLIES]) as col,
            publisher(infra.bootstrap) as pub,
            started(runtime),
        ):
            await asyncio.sleep(1.5)  # the relay's first pass and its LISTEN are in place
            for n in range(3):
                await pub.event(
                    CsatSubmitted(
                        shop_id=shop, conversation_id=f"c{n}", buyer_id="b", rating=5,
                        submitted_at=NOW,
                    )
                )  # fmt: skip
            await col.wait_count(REPLIES, 3, shop_id=shop, timeout=20)
            assert runtime.relay.stats.published == 0, "the service itself publishes nothing"
            # The relay marks rows sent in the transaction of the pass that published them,
            # which commits just after the broker acknowledged: the reader may be faster.
            deadline = asyncio.get_running_loop().time() + 10
            while (backlog := await relay.relay.backlog()) and (
                asyncio.get_running_loop().time() < deadline
            ):
                await asyncio.sleep(0.05)
            assert backlog == 0
    finally:
        await relay.stop()
