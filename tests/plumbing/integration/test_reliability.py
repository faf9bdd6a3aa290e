"""The reliability model on the real broker and database: inbox, outbox, dead letters, retries."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from probe_service import Behaviour, build_probe
from sqlalchemy import func, select, text

from shared.contracts import CsatSubmitted
from tests.support.groups import start_at_end
from tests.support.kafka import collecting, publisher
from tests.support.runtime import idle, started, wait_until

NOW = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
REPLIES = "cs.reply.requested.v1"
DLQ = "cs.csat.submitted.v1.dlq"


def csat(
    shop: str, conversation: str, rating: int = 5, comment: str | None = None
) -> CsatSubmitted:
    return CsatSubmitted(
        shop_id=shop,
        conversation_id=conversation,
        buyer_id="AAbuyer",
        rating=rating,
        comment=comment,
        submitted_at=NOW,
    )


async def effects_count(engine, effects_table, shop: str) -> int:  # type: ignore[no-untyped-def]
    """Effects of this test's shop only: the probe also sees earlier tests' events."""
    async with engine.connect() as conn:
        query = select(func.count()).where(effects_table.c.what.like(f"csat:{shop}:%"))
        return (await conn.execute(query)).scalar_one()


async def test_a_redelivered_event_changes_nothing(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    runtime, _, effects = build_probe(infra.bootstrap, infra.database_url, schema)
    async with collecting(infra.bootstrap, [REPLIES]) as col, publisher(infra.bootstrap) as pub:
        async with started(runtime):
            for _ in range(3):
                await pub.event(csat(shop, "c-dup"), event_id=f"{shop}-same-id")
            await pub.event(csat(shop, "c-other"))
            await col.wait_count(REPLIES, 2, shop_id=shop)
            await idle(runtime)  # a wrongly doubled reply has been published...
            await col.caught_up()  # ...and read
        assert len(col.of(REPLIES, shop_id=shop, conversation_id="c-dup")) == 1
        assert len(col.of(REPLIES, shop_id=shop)) == 2
    assert await effects_count(probe_db, effects, shop) == 2


async def test_bad_input_is_dead_lettered_and_the_partition_moves_on(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    async with (
        collecting(infra.bootstrap, [REPLIES, DLQ]) as col,
        publisher(infra.bootstrap) as pub,
    ):
        async with started(runtime):
            key = f"{shop}-conv"
            await pub.raw("cs.csat.submitted.v1", b"{not json", key=key, headers={"ce_id": "x1"})
            good = await pub.event(csat(shop, key))
            bad = dict(good.headers) | {"ce_id": f"{shop}-bad"}
            await pub.raw(
                "cs.csat.submitted.v1",
                good.value.replace(b'"rating":5', b'"rating":9'),
                key=key,
                headers=bad,
            )
            # declared as JSON but malformed: must not fail the batch (FastStream must not decode)
            await pub.raw(
                "cs.csat.submitted.v1",
                b'{"shop_id": "' + shop.encode() + b'", broken',
                key=key,
                headers=dict(good.headers) | {"ce_id": f"{shop}-broken"},
            )
            await pub.event(csat(shop, key + "-after"))
            await col.wait_count(REPLIES, 2, shop_id=shop)
            await col.wait_for(
                lambda c: len([s for s in c.of(DLQ) if s.key == key]) == 3,
                what="three dead letters",
            )
        dead = [s for s in col.of(DLQ) if s.key == key]
        reasons = sorted(s.headers["x-dlq-reason"] for s in dead)
        assert any("CloudEvents" in r or "JSON" in r for r in reasons)
        assert any("rating" in r for r in reasons)
        assert sum("not JSON" in r for r in reasons) == 1
        original = next(s for s in dead if "rating" in s.headers["x-dlq-reason"])
        assert original.value == good.value.replace(b'"rating":5', b'"rating":9')
        assert original.headers["ce_id"] == f"{shop}-bad"
        assert original.headers["x-dlq-topic"] == "cs.csat.submitted.v1"


async def test_a_failing_handler_dead_letters_only_its_event(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    behaviour = Behaviour(crash_on={"c-poison"})
    runtime, _, effects = build_probe(
        infra.bootstrap, infra.database_url, schema, behaviour=behaviour
    )
    async with (
        collecting(infra.bootstrap, [REPLIES, DLQ]) as col,
        publisher(infra.bootstrap) as pub,
    ):
        async with started(runtime):
            await pub.event(csat(shop, "c-poison"))
            await pub.event(csat(shop, "c-fine"))
            await col.wait_count(REPLIES, 1, shop_id=shop)
            await col.wait_for(
                lambda c: any("c-poison" in s.headers.get("x-dlq-reason", "") for s in c.of(DLQ)),
                what="the poison event dead-lettered",
            )
        assert col.of(REPLIES, shop_id=shop)[0].data["conversation_id"] == "c-fine"
    assert await effects_count(probe_db, effects, shop) == 1


async def test_a_batch_failing_outside_the_handlers_dead_letters_only_the_culprit(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    """The outbox write fails for one event (after its handler returned): the batch is split
    until that event is alone, dead-lettered with the reason; every other event is handled,
    and the partition moves on."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    behaviour = Behaviour(unstorable_on={"c-unstorable"})
    runtime, _, effects = build_probe(
        infra.bootstrap, infra.database_url, schema, behaviour=behaviour
    )
    async with (
        collecting(infra.bootstrap, [REPLIES, DLQ]) as col,
        publisher(infra.bootstrap) as pub,
    ):
        # Its group starts here, before the backlog is published: it must read all of it.
        await start_at_end(
            infra.bootstrap, runtime.settings.kafka_group_id, runtime.dispatcher.topics
        )
        for i in range(3):
            await pub.event(csat(shop, f"c-before-{i}"))
        poison = await pub.event(csat(shop, "c-unstorable"))
        for i in range(3):
            await pub.event(csat(shop, f"c-after-{i}"))
        async with started(runtime):  # all seven in the first batches
            await col.wait_count(REPLIES, 6, shop_id=shop)
            await col.wait_for(
                lambda c: any(s.headers.get("ce_id") == poison.headers["ce_id"] for s in c.of(DLQ)),
                what="the event whose effects cannot be stored dead-lettered",
            )
        [dead] = [s for s in col.of(DLQ) if s.headers.get("ce_id") == poison.headers["ce_id"]]
        assert dead.headers["x-dlq-reason"].startswith("could not be stored")
        assert dead.value == poison.value
        assert "c-unstorable" not in {
            s.data["conversation_id"] for s in col.of(REPLIES, shop_id=shop)
        }
    assert await effects_count(probe_db, effects, shop) == 6


async def test_the_same_id_from_two_sources_is_two_events(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """CloudEvents identity is source + id: two producers may use the same id."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    runtime, _, effects = build_probe(infra.bootstrap, infra.database_url, schema)
    async with collecting(infra.bootstrap, [REPLIES]) as col, publisher(infra.bootstrap) as pub:
        async with started(runtime):
            same = f"{shop}-id"  # one conversation, one partition: handled in this order
            await pub.event(csat(shop, "c", rating=1), event_id=same, source="/upstream/a")
            await pub.event(csat(shop, "c", rating=2), event_id=same, source="/upstream/b")
            await pub.event(csat(shop, "c", rating=3), event_id=same, source="/upstream/a")
            await pub.event(csat(shop, "c", rating=4))
            await col.wait_for(
                lambda c: any("4 分" in s.data["text"] for s in c.of(REPLIES, shop_id=shop)),
                what="the last event handled",
            )
        texts = sorted(s.data["text"] for s in col.of(REPLIES, shop_id=shop))
    assert texts == [f"谢谢您的评价 {n} 分" for n in (1, 2, 4)]
    assert await effects_count(probe_db, effects, shop) == 3


async def test_transient_failures_are_retried_not_dead_lettered(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    behaviour = Behaviour(transient_failures={"c-flaky": 3})
    runtime, _, effects = build_probe(
        infra.bootstrap, infra.database_url, schema, behaviour=behaviour
    )
    async with (
        collecting(infra.bootstrap, [REPLIES, DLQ]) as col,
        publisher(infra.bootstrap) as pub,
    ):
        async with started(runtime):
            await pub.event(csat(shop, "c-flaky"))
            await col.wait_count(REPLIES, 1, shop_id=shop)
        assert behaviour.calls.count("c-flaky") == 4
        assert not [s for s in col.of(DLQ) if "c-flaky" in s.value.decode()]
    assert await effects_count(probe_db, effects, shop) == 1


async def test_a_crash_after_commit_loses_nothing(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """Handled and committed, but the process dies before the relay publishes: the next
    process publishes the outbox rows, once."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    runtime.relay.relay_once = _never  # type: ignore[method-assign]  # the relay is "dead"
    runtime.relay.run = _idle  # type: ignore[method-assign]
    async with collecting(infra.bootstrap, [REPLIES]) as col, publisher(infra.bootstrap) as pub:
        async with started(runtime):
            for i in range(20):
                await pub.event(csat(shop, f"c-{i}"))

            async def all_pending() -> bool:
                async with runtime.engine.connect() as conn:
                    pending = await conn.execute(
                        text(
                            "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
                            " AND position(convert_to(:shop, 'UTF8') in value) > 0"
                        ),
                        {"shop": shop},
                    )
                    return pending.scalar_one() == 20

            await wait_until(all_pending, 20, "20 replies handled, waiting in the outbox")
        assert col.of(REPLIES, shop_id=shop) == []
        second, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
        async with started(second):
            await col.wait_count(REPLIES, 20, shop_id=shop)
            await idle(second)
            await col.caught_up()
        ids = [s.data["reply_request_id"] for s in col.of(REPLIES, shop_id=shop)]
        assert len(ids) == len(set(ids)) == 20


async def test_the_trace_continues_through_the_outbox(infra, schema, probe_db, spans) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider()
    tracer = provider.get_tracer("test")
    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    async with (
        collecting(infra.bootstrap, [REPLIES]) as col,
        publisher(infra.bootstrap) as pub,
        started(runtime),
    ):
        with tracer.start_as_current_span("buyer message") as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            carrier: dict[str, str] = {}
            from opentelemetry import propagate

            propagate.inject(carrier, context=trace.set_span_in_context(span))
            from shared.cloudevents import encode
            from shared.topics import topic

            record = encode(topic("cs.csat.submitted.v1"), csat(shop, "c-trace"), source="/t")
            record.headers.update(carrier)
            await pub.record(record)
        [reply] = await col.wait_count(REPLIES, 1, shop_id=shop)
    assert reply.headers["traceparent"].split("-")[1] == trace_id
    names = {
        s.name for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id
    }
    assert "process cs.csat.submitted.v1" in names
    assert "cs.reply.requested.v1 publish" in names
    relay = [s for s in spans.get_finished_spans() if s.name == "cs.reply.requested.v1 publish"]
    assert any(s.instrumentation_scope.name == "xiaoer.relay" for s in relay)  # type: ignore[union-attr]


async def _never() -> int:
    return 0


async def _idle() -> None:
    await asyncio.Event().wait()


async def test_metrics_show_lag_and_outcomes(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client import generate_latest

    from shared.observability import REGISTRY

    shop = f"shop-{uuid.uuid4().hex[:8]}"
    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    async with (
        collecting(infra.bootstrap, [REPLIES]) as col,
        publisher(infra.bootstrap) as pub,
        started(runtime),
    ):
        await pub.event(csat(shop, "c-metrics"))
        await col.wait_count(REPLIES, 1, shop_id=shop)
        await runtime._consumer_lag()
        text = generate_latest(REGISTRY).decode()
    lag_lines = [
        line
        for line in text.splitlines()
        if line.startswith("xiaoer_consumer_lag{") and f'service="{schema}"' in line
    ]
    # one gauge per assigned partition (the value depends on what earlier tests published)
    assert {line.split('partition="')[1].split('"')[0] for line in lag_lines} == {"0", "1"}
    assert all(float(line.rsplit(" ", 1)[1]) >= 0 for line in lag_lines)
    assert f'xiaoer_events_total{{outcome="handled",service="{schema}"' in text


async def test_lanes_keep_per_key_order(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """With 4 concurrent lanes per batch, each conversation's events are still handled in
    the order they were published."""
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    runtime, behaviour, _ = build_probe(infra.bootstrap, infra.database_url, schema, lanes=4)
    async with (
        collecting(infra.bootstrap, [REPLIES]) as col,
        publisher(infra.bootstrap) as pub,
    ):
        # Its group starts here, before the backlog is published: it must read all of it.
        await start_at_end(
            infra.bootstrap, runtime.settings.kafka_group_id, runtime.dispatcher.topics
        )
        for n in range(30):
            for key in range(8):
                await pub.event(csat(shop, f"{shop}-k{key}", rating=1 + n % 5, comment=f"n{n}"))
        async with started(runtime):
            await col.wait_count(REPLIES, 240, shop_id=shop)
    order: dict[str, list[int]] = {}
    for conversation, comment in behaviour.seen:
        if conversation.startswith(shop):
            order.setdefault(conversation, []).append(int(comment[1:]))
    assert len(order) == 8
    assert all(seq == list(range(30)) for seq in order.values()), order
