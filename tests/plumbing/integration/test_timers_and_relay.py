"""Durable timers fire once across replicas; the relay keeps per-key order across replicas."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from probe_service import build_probe, probe_metadata
from sqlalchemy import Table, func, select

from shared.clock import FakeClock
from shared.cloudevents import encode
from shared.context import Plumbing
from shared.contracts import ReplyRequested
from shared.outbox import OutboxRelay, enqueue
from shared.timer_runner import TimerRunner
from shared.timers import cancel, schedule
from shared.topics import topic
from tests.support.kafka import collecting

START = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


async def test_timers_fire_once_across_two_replicas_and_cancel_works(
    infra, schema, probe_db
) -> None:  # type: ignore[no-untyped-def]
    metadata, effects = probe_metadata()
    timers = metadata.tables["timers"]
    clock = FakeClock(START)
    async with probe_db.begin() as conn:
        for i in range(300):
            await schedule(conn, timers, "remind", f"k{i}", START + timedelta(minutes=i % 60))
            await schedule(
                conn, timers, "remind", f"k{i}", START + timedelta(days=9)
            )  # no-op: exists
        for i in range(0, 300, 10):
            assert await cancel(conn, timers, "remind", f"k{i}")
    fired: list[str] = []

    async def on_remind(ctx, timer) -> None:  # type: ignore[no-untyped-def]
        fired.append(timer.key)
        await ctx.conn.execute(effects.insert().values(what=timer.key))
        await asyncio.sleep(0)  # let the other replica run

    plumbing = Plumbing("probe", metadata.tables["inbox"], metadata.tables["outbox"], timers)
    replicas = [
        TimerRunner(probe_db, timers, {"remind": on_remind}, clock, plumbing, batch_size=7)
        for _ in range(2)
    ]
    assert sum([await r.fire_due() for r in replicas]) == 0  # nothing due yet
    clock.advance(timedelta(minutes=30))

    async def drain(runner: TimerRunner) -> None:
        while await runner.fire_due():
            pass

    await asyncio.gather(*(drain(r) for r in replicas))
    due_by_now = {f"k{i}" for i in range(300) if i % 60 <= 30 and i % 10 != 0}
    assert sorted(fired) == sorted(due_by_now)
    clock.advance(timedelta(days=30))
    await asyncio.gather(*(drain(r) for r in replicas))
    assert len(fired) == len(set(fired)) == 270
    async with probe_db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(effects))).scalar_one() == 270


async def test_timers_survive_a_restart(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema, clock=clock)
    async with runtime.engine.begin() as conn:
        await schedule(
            conn, runtime.plumbing.timers, "remind", "after-restart", START + timedelta(hours=2)
        )
    await runtime.engine.dispose()  # the first process is gone
    again, _, _ = build_probe(infra.bootstrap, infra.database_url, schema, clock=clock)
    clock.advance(timedelta(hours=2))
    assert await again.timer_runner.fire_due() == 1
    assert await again.timer_runner.fire_due() == 0
    await again.engine.dispose()


async def test_two_relays_keep_per_key_order(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    t = topic("cs.reply.requested.v1")
    records = []
    for n in range(40):
        for key in range(25):
            payload = ReplyRequested(
                shop_id=shop,
                reply_request_id=f"{key}-{n}",
                conversation_id=f"{shop}-c{key}",
                buyer_id="b",
                text=str(n),
                kind="notification",
                requested_by="probe",
                requested_at=START,
            )
            records.append(encode(t, payload, source="/t"))
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, records, shards=8)
    runtime_a, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    runtime_b, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    await runtime_a.broker.start()
    await runtime_b.broker.start()
    relays = [
        OutboxRelay(
            probe_db, outbox, rt._publish, lock_space=f"{schema}.outbox", shards=8, batch_size=37
        )
        for rt in (runtime_a, runtime_b)
    ]
    try:
        async with collecting(infra.bootstrap, ["cs.reply.requested.v1"]) as col:

            async def drain(relay: OutboxRelay) -> None:
                while await relay.relay_once():
                    await asyncio.sleep(0)

            await asyncio.gather(*(drain(r) for r in relays))
            await col.wait_count("cs.reply.requested.v1", 1000, shop_id=shop)
            by_key: dict[str, list[int]] = defaultdict(list)
            for s in col.of("cs.reply.requested.v1", shop_id=shop):
                by_key[s.key or ""].append(int(s.data["text"]))
        assert len(by_key) == 25
        assert all(seq == list(range(40)) for seq in by_key.values())
        # the probe's own consumer may add replies for earlier tests' events: at least ours
        assert relays[0].stats.published + relays[1].stats.published >= 1000
    finally:
        await runtime_a.broker.stop()
        await runtime_b.broker.stop()
        await runtime_a.engine.dispose()
        await runtime_b.engine.dispose()


async def test_housekeeping_forgets_only_what_is_past_retention(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    runtime, _, _ = build_probe(infra.bootstrap, infra.database_url, schema)
    async with probe_db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO inbox (consumer, event_id, topic, handled_at) VALUES"
                " ('c', 'old', 't', now() - interval '15 days'), ('c', 'new', 't', now())"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO outbox (shard, topic, key, value, headers, sent_at) VALUES"
                " (0, 't', 'k', 'x', '{}', now() - interval '2 days'),"
                " (0, 't', 'k', 'y', '{}', now()),"
                " (0, 't', 'k', 'z', '{}', NULL)"
            )
        )
    await runtime.prune()
    async with probe_db.connect() as conn:
        inbox = (await conn.execute(text("SELECT event_id FROM inbox"))).scalars().all()
        outbox = (await conn.execute(text("SELECT value FROM outbox ORDER BY id"))).scalars().all()
    assert inbox == ["new"]
    assert [bytes(v) for v in outbox] == [b"y", b"z"]
    await runtime.engine.dispose()


async def test_a_timer_can_re_arm_itself(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """An idle-session timer that finds fresh activity re-arms itself; that must stick."""
    metadata, _ = probe_metadata()
    timers = metadata.tables["timers"]
    clock = FakeClock(START)
    firings: list[datetime] = []

    async def on_idle(ctx, timer) -> None:  # type: ignore[no-untyped-def]
        firings.append(ctx.now())
        if len(firings) < 3:
            await ctx.schedule("idle", timer.key, ctx.now() + timedelta(minutes=30), replace=True)

    plumbing = Plumbing("probe", metadata.tables["inbox"], metadata.tables["outbox"], timers)
    runner = TimerRunner(probe_db, timers, {"idle": on_idle}, clock, plumbing)
    async with probe_db.begin() as conn:
        await schedule(conn, timers, "idle", "conv-1", START + timedelta(minutes=30))
    for _ in range(5):
        clock.advance(timedelta(minutes=30))
        await runner.fire_due()
    assert firings == [START + timedelta(minutes=30 * n) for n in (1, 2, 3)]


async def test_relays_racing_on_one_outbox_publish_each_row_once(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """Four relays drain one outbox as fast as they can; every row goes out exactly once.

    Found by the two-replica timer test: when the shard lock and the read of its rows were one
    statement, a relay could take the lock just after another committed and still read the rows
    that one had published (its snapshot predated that commit), publishing them twice."""
    metadata, _ = probe_metadata()
    outbox = metadata.tables["outbox"]
    t = topic("cs.reply.requested.v1")
    records = [
        encode(
            t,
            ReplyRequested(
                shop_id="s",
                reply_request_id=str(n),
                conversation_id=f"c{n % 50}",
                buyer_id="b",
                text=str(n),
                kind="notification",
                requested_by="probe",
                requested_at=START,
            ),
            source="/t",
        )
        for n in range(3000)
    ]
    async with probe_db.begin() as conn:
        await enqueue(conn, outbox, records, shards=4)
    published: list[bytes] = []

    async def publish(record):  # type: ignore[no-untyped-def]
        published.append(record.value)
        await asyncio.sleep(0)
        return asyncio.sleep(0)

    relays = [
        OutboxRelay(
            probe_db, outbox, publish, lock_space=f"{schema}.outbox", shards=4, batch_size=8
        )
        for _ in range(4)
    ]

    async def drain(relay: OutboxRelay) -> None:
        idle_passes = 0
        while idle_passes < 3:
            idle_passes = 0 if await relay.relay_once() else idle_passes + 1

    await asyncio.gather(*(drain(r) for r in relays))
    assert len(published) == len(set(published)) == 3000


async def row_locking_runner(
    probe_db, keys: list[str], lock_wait_ms: int
) -> tuple[TimerRunner, FakeClock, list[str], Table, Table]:  # type: ignore[no-untyped-def]
    """A `remind` timer per key, due a minute apart from START + 1 min, each with an `effects`
    row its handler locks and marks: the runner, its clock, the keys fired in order, the
    effects and timers tables."""
    metadata, effects = probe_metadata()
    timers = metadata.tables["timers"]
    async with probe_db.begin() as conn:
        for n, key in enumerate(keys):
            await schedule(conn, timers, "remind", key, START + timedelta(minutes=1 + n))
            await conn.execute(effects.insert().values(what=key))
    fired: list[str] = []

    async def on_remind(ctx, timer) -> None:  # type: ignore[no-untyped-def]
        row = effects.c.what == timer.key
        await ctx.conn.execute(select(effects.c.id).where(row).with_for_update())
        await ctx.conn.execute(effects.update().where(row).values(what=f"{timer.key}:reminded"))
        fired.append(timer.key)

    clock = FakeClock(START)
    plumbing = Plumbing("probe", metadata.tables["inbox"], metadata.tables["outbox"], timers)
    runner = TimerRunner(
        probe_db, timers, {"remind": on_remind}, clock, plumbing, lock_wait_ms=lock_wait_ms
    )
    return runner, clock, fired, effects, timers


async def hold_rows(holder, effects: Table, keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    await holder.begin()
    await holder.execute(select(effects.c.id).where(effects.c.what.in_(keys)).with_for_update())


async def test_a_firing_gives_way_to_a_row_the_consume_path_holds(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """The runner locks timers then the rows their handlers touch; the consume path locks its
    rows then their timers. While another transaction holds a row, the firing that needs it
    is put off (its timer stays due, nothing of it is written) and the others fire: the runner
    neither waits for the holder nor deadlocks with it, and fires the timer once it is free."""
    runner, clock, fired, effects, timers = await row_locking_runner(
        probe_db, ["busy", "free"], 100
    )
    clock.advance(timedelta(minutes=3))
    async with probe_db.connect() as holder:
        await hold_rows(holder, effects, ["busy"])
        # Without the lock timeout this would wait for the holder for ever.
        assert await asyncio.wait_for(runner.fire_due(), timeout=10) == 1
        assert fired == ["free"]
        assert runner.deferred == 1
        # The holder can take the put-off timer's row at once (NOWAIT), as the consume path
        # cancelling or re-arming it would: the runner's transaction is over.
        held = await holder.execute(
            select(timers.c.fired_at).where(timers.c.key == "busy").with_for_update(nowait=True)
        )
        assert held.scalar_one() is None  # still due, its firing left no trace
        await holder.rollback()
    assert await runner.fire_due() == 1
    assert fired == ["free", "busy"]
    assert await runner.fire_due() == 0
    async with probe_db.connect() as conn:
        whats = (await conn.execute(select(effects.c.what).order_by(effects.c.what))).scalars()
        assert list(whats) == ["busy:reminded", "free:reminded"]


async def test_a_pass_that_meets_busy_rows_ends_early(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """After `MAX_DEFERRED_PER_PASS` busy rows the pass commits and ends, so a consume path
    waiting for one of the timers it holds is released; the rest stay due, untouched."""
    from shared.timer_runner import MAX_DEFERRED_PER_PASS

    busy = [f"busy{i}" for i in range(MAX_DEFERRED_PER_PASS + 2)]
    runner, clock, fired, effects, _ = await row_locking_runner(probe_db, [*busy, "free"], 50)
    clock.advance(timedelta(hours=1))
    async with probe_db.connect() as holder:
        await hold_rows(holder, effects, busy)
        assert await asyncio.wait_for(runner.fire_due(), timeout=10) == 0
        assert runner.deferred == MAX_DEFERRED_PER_PASS
        assert fired == []  # "free", due last, was not reached in this pass
        await holder.rollback()
    while await runner.fire_due():
        pass
    assert sorted(fired) == sorted([*busy, "free"])


async def test_a_pass_commits_within_its_time_budget(infra, schema, probe_db) -> None:  # type: ignore[no-untyped-def]
    """A pass holds its timers' rows until it commits; past its budget it commits and leaves
    the rest due, so a consume path waiting for one of them never waits near PostgreSQL's
    deadlock check (1 s). Each timer still fires once."""
    metadata, _ = probe_metadata()
    timers = metadata.tables["timers"]
    async with probe_db.begin() as conn:
        for i in range(10):
            await schedule(conn, timers, "remind", f"slow{i}", START + timedelta(minutes=1))
    fired: list[str] = []

    async def slow(ctx, timer) -> None:  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.1)
        fired.append(timer.key)

    clock = FakeClock(START + timedelta(minutes=2))
    plumbing = Plumbing("probe", metadata.tables["inbox"], metadata.tables["outbox"], timers)
    runner = TimerRunner(probe_db, timers, {"remind": slow}, clock, plumbing, pass_budget_s=0.25)
    first = await runner.fire_due()
    assert 1 <= first < 10  # ten handlers of 0.1 s do not fit in one 0.25 s pass
    passes = 1
    while await runner.fire_due():
        passes += 1
    assert passes > 1
    assert sorted(fired) == sorted(f"slow{i}" for i in range(10))
