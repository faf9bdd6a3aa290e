"""The relay isolates rows: one the broker never accepts is parked, nothing else waits or doubles.

On the real broker and database. "Too large" is the producer's `max_request_size` (1 MiB by
default, `KAFKA_MAX_REQUEST_BYTES`): the same MessageSizeTooLargeError a Kafka broker answers
for a record over `message.max.bytes`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from probe_service import build_probe, probe_metadata
from sqlalchemy import select

from ops.dlq.__main__ import run as dlq
from shared.cloudevents import Record, encode
from shared.contracts import ReplyRequested
from shared.observability import REGISTRY
from shared.outbox import TRUNCATED_DEAD_LETTER_BYTES, OutboxRelay, enqueue
from shared.topics import topic
from tests.support.kafka import collecting
from tests.support.runtime import wait_until

REPLIES = "cs.reply.requested.v1"
DLQ = "cs.csat.submitted.v1.dlq"
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


@asynccontextmanager
async def publishing(bootstrap: str, max_request_size: int = 1_048_576) -> AsyncIterator[Any]:
    p = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        max_request_size=max_request_size,
        linger_ms=2,
    )
    await p.start()

    async def publish(record: Record) -> Awaitable[object]:
        return await p.send(
            record.topic,
            record.value,
            key=record.key.encode() if record.key else None,
            headers=[(k, v.encode()) for k, v in record.headers.items()],
        )

    try:
        yield publish
    finally:
        await p.stop()


async def drain(relay: OutboxRelay) -> None:
    while await relay.relay_once():
        pass


def parked_counter(service: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "xiaoer_outbox_parked_total", {"service": service, "reason": reason}
    )
    return value or 0.0


async def outbox_rows(engine, outbox) -> list[Any]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return list(await conn.execute(select(outbox).order_by(outbox.c.id)))


async def test_a_too_large_row_is_parked_and_nothing_else_waits_or_doubles(
    infra, schema, probe_db, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    big_key = 3
    before = [reply(shop, k, n) for n in range(4) for k in range(10)]
    big = reply(shop, big_key, 99, text="大" * 600_000)  # ~1.8 MB of JSON
    after = [reply(shop, k, n) for n in range(4, 8) for k in range(10)]
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, before, SHARDS)
        await enqueue(conn, outbox, [big], SHARDS)
        await enqueue(conn, outbox, after, SHARDS)
    parked_before = parked_counter(schema, "too_large")

    # The services' own publish path (FastStream, KAFKA_MAX_REQUEST_BYTES at its default).
    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    async with collecting(infra.bootstrap, [REPLIES]) as col:
        await runtime.broker.start()
        try:
            relay = OutboxRelay(
                probe_db, outbox, runtime._publish, lock_space=schema, shards=SHARDS, batch_size=7
            )
            await drain(relay)
            await col.wait_count(REPLIES, 80, shop_id=shop)
        finally:
            await runtime.broker.stop()
            await runtime.engine.dispose()
        counts = Counter(s.data["reply_request_id"] for s in col.of(REPLIES, shop_id=shop))
        assert set(counts) == {f"{shop}-{k}-{n}" for k in range(10) for n in range(8)}
        assert set(counts.values()) == {1}, "every row published exactly once"
        per_key = [int(s.data["text"]) for s in col.of(REPLIES, shop_id=shop) if s.key == big.key]
        assert per_key == list(range(8)), "the parked row's key keeps its order"

        # The relay marks rows sent in the pass that published them: seeing an event on the
        # topic can come before that pass commits.
        async def settled() -> bool:
            return all(
                r.sent_at is not None or r.parked_at is not None
                for r in await outbox_rows(probe_db, outbox)
            )

        await wait_until(settled, 20, "every outbox row sent or parked")
        rows = await outbox_rows(probe_db, outbox)
        parked = [r for r in rows if r.parked_at is not None]
        assert [bytes(r.value) for r in parked] == [big.value]
        assert parked[0].sent_at is None
        assert parked[0].park_reason.startswith("too_large: ")
        assert "MessageSizeTooLargeError" in parked[0].park_reason
        assert all(r.sent_at is not None for r in rows if r.parked_at is None)
        assert parked_counter(schema, "too_large") == parked_before + 1
        assert await relay.backlog() == 0
        assert await relay.parked() == 1

        # Listed by ops.dlq, then re-driven once the limit is raised.
        capsys.readouterr()
        url = ["--bootstrap", infra.bootstrap, "--database-url", infra.database_url]
        assert await dlq([*url, "list", "--json", "--service", schema, "--topic", REPLIES]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [row["position"] for row in listed if row["status"] == "parked"] == [
            f"outbox:{schema}:{parked[0].id}"
        ]
        assert await dlq([*url, "unpark", "--service", schema, "--all"]) == 0
        assert "1 unparked" in capsys.readouterr().out
        async with publishing(infra.bootstrap, max_request_size=4_000_000) as publish:
            fixed = OutboxRelay(probe_db, outbox, publish, lock_space=schema, shards=SHARDS)
            await drain(fixed)
        rows = await outbox_rows(probe_db, outbox)
        assert all(r.sent_at is not None and r.parked_at is None for r in rows)
        assert fixed.stats.published == 1
        assert await dlq([*url, "unpark", "--service", schema, "--all"]) == 0
        assert "0 unparked" in capsys.readouterr().out


async def test_a_too_large_dead_letter_goes_out_truncated_with_the_hash(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    original = b'{"comment": "' + b"x" * 2_000_000 + b'"}'
    letter = Record(
        DLQ,
        f"key-{uuid.uuid4().hex[:8]}",
        original,
        {"ce_id": f"dead-{uuid.uuid4()}", "x-dlq-reason": "handler failed: KeyError"},
    )
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, [letter], SHARDS)
    async with collecting(infra.bootstrap, [DLQ]) as col:
        async with publishing(infra.bootstrap) as publish:
            relay = OutboxRelay(probe_db, outbox, publish, lock_space=schema, shards=SHARDS)
            await drain(relay)
        await col.wait_for(
            lambda c: any(s.key == letter.key for s in c.seen), what="the truncated dead letter"
        )
        copy = [s for s in col.seen if s.key == letter.key]
    assert len(copy) == 1
    assert copy[0].value == original[:TRUNCATED_DEAD_LETTER_BYTES]
    assert copy[0].headers["x-dlq-truncated"] == "true"
    assert copy[0].headers["x-dlq-original-size"] == str(len(original))
    assert copy[0].headers["x-dlq-original-sha256"] == hashlib.sha256(original).hexdigest()
    assert copy[0].headers["ce_id"] == letter.headers["ce_id"]
    rows = await outbox_rows(probe_db, outbox)
    assert [(r.sent_at is not None, r.parked_at) for r in rows] == [(True, None)]
    assert bytes(rows[0].value) == original, "the outbox keeps the whole original"


async def test_broker_down_is_retried_never_parked(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """Transient failures keep rows pending (in order), however often they happen."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    records = [reply(shop, k, n) for n in range(3) for k in range(6)]
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, records, SHARDS)

    async def broker_down(record: Record) -> Awaitable[object]:
        raise KafkaConnectionError("connection refused (simulated outage)")

    down = OutboxRelay(probe_db, outbox, broker_down, lock_space=schema, shards=SHARDS)
    for _ in range(10):
        assert await down.relay_once() == 0
    assert await down.backlog() == len(records)
    assert await down.parked() == 0
    async with collecting(infra.bootstrap, [REPLIES]) as col:
        async with publishing(infra.bootstrap) as publish:
            up = OutboxRelay(probe_db, outbox, publish, lock_space=schema, shards=SHARDS)
            await drain(up)
        await col.wait_count(REPLIES, len(records), shop_id=shop)
        ids = Counter(s.data["reply_request_id"] for s in col.of(REPLIES, shop_id=shop))
    assert len(ids) == len(records)
    assert set(ids.values()) == {1}
