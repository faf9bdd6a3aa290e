"""`cs.kpi.snapshot.v1`: published once an hour is decided, revised by late events, idempotent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.metrics.store import tables as store
from shared.clock import FakeClock
from shared.contracts import ConversationAssigned, MessageReceived, MessageSent
from tests.metrics.helpers import metrics_api
from tests.support.kafka import collecting, publisher
from tests.support.runtime import idle, wait_until

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


async def test_snapshot_published_revised_and_idempotent(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    conv, agent = f"c-{uuid.uuid4().hex[:6]}", f"{shop_id}-a1"
    clock = FakeClock(T0 + timedelta(minutes=10))

    def buyer(s: int) -> MessageReceived:
        return MessageReceived(
            shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv, buyer_id="b",
            text="在吗", sent_at=T0 + timedelta(seconds=s),
        )  # fmt: skip

    def answer(s: int) -> MessageSent:
        return MessageSent(
            shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv, buyer_id="b",
            sender_kind="agent", sender_id=agent, text="在的", sent_at=T0 + timedelta(seconds=s),
        )  # fmt: skip

    async with (
        collecting(infra.bootstrap, ["cs.kpi.snapshot.v1"]) as col,
        metrics_api(infra, clock=clock, snapshot_interval_s=3600) as (rt, _),
        publisher(infra.bootstrap) as pub,
    ):
        snapshotter = rt.state["snapshotter"]
        await pub.event(
            ConversationAssigned(
                shop_id=shop_id, conversation_id=conv, agent_id=agent,
                assigned_at=T0, reason="test",
            )
        )  # fmt: skip
        await pub.event(buyer(0))
        answered = await pub.event(answer(60))

        async def rounds() -> int:
            async with rt.engine.connect() as conn:
                r = store.conv_rounds
                query = select(func.count()).select_from(r).where(r.c.shop_id == shop_id)
                return (await conn.execute(query)).scalar_one()

        async def settle(expect_rounds: int) -> None:
            async def ingested() -> bool:
                return await rounds() == expect_rounds

            await wait_until(ingested, 20, f"{expect_rounds} rounds ingested")

        async def drain() -> None:  # other tests' hours may be due too: take them all
            while await snapshotter.run_once():
                pass

        await settle(1)
        await drain()
        await idle(rt)  # what the snapshotter emitted is published...
        await col.caught_up()  # ...and read
        assert col.of("cs.kpi.snapshot.v1", shop_id=shop_id) == []  # the hour is not over
        clock.set(T0 + timedelta(hours=1, minutes=31))  # hour end + SESSION_GAP
        await drain()
        snaps = await col.wait_count("cs.kpi.snapshot.v1", 1, shop_id=shop_id)
        first = snaps[0].data
        assert (first["agent_id"], first["revision"]) == (agent, 1)
        assert first["kpis"]["rounds_answered"] == 1
        assert first["kpis"]["response_time_avg_s"] == 60
        assert first["hour_start"].startswith("2026-11-03T10:00:00")
        assert first["quality"] == {  # the agent's session of that hour, inspected and scored
            "inspected_replies": 1, "flags": {}, "scored_sessions": 1, "score_avg": 100.0,
            "failed_sessions": 0,
        }  # fmt: skip

        # a late buyer message of that hour: revision 2
        await pub.event(buyer(1200))
        await settle(2)
        await drain()
        snaps = await col.wait_count("cs.kpi.snapshot.v1", 2, shop_id=shop_id)
        second = max((s.data for s in snaps), key=lambda d: d["revision"])
        assert second["revision"] == 2
        assert second["kpis"]["rounds_unanswered"] == 1
        assert second["kpis"]["response_rate_3min"] == 0.5
        assert second["quality"]["inspected_replies"] == 1

        # a duplicate changes nothing: no hour is due, nothing is published
        await pub.record(answered)
        await idle(rt)  # the duplicate is consumed
        await drain()
        await idle(rt)
        await col.caught_up()
        assert len(col.of("cs.kpi.snapshot.v1", shop_id=shop_id)) == 2
        ids = {s.headers["ce_id"] for s in col.of("cs.kpi.snapshot.v1", shop_id=shop_id)}
        assert len(ids) == 2


async def test_snapshot_carries_the_agents_quality_inspection(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    """A flagged reply shows in the hour's snapshot: flags by category, score, failed session."""
    conv, agent = f"c-{uuid.uuid4().hex[:6]}", f"{shop_id}-a1"
    clock = FakeClock(T0 + timedelta(hours=1, minutes=31))
    async with (
        collecting(infra.bootstrap, ["cs.kpi.snapshot.v1"]) as col,
        metrics_api(infra, clock=clock, snapshot_interval_s=3600) as (rt, _),
        publisher(infra.bootstrap) as pub,
    ):
        snapshotter = rt.state["snapshotter"]
        await pub.event(
            ConversationAssigned(
                shop_id=shop_id, conversation_id=conv, agent_id=agent,
                assigned_at=T0, reason="test",
            )
        )  # fmt: skip
        await pub.event(
            MessageReceived(
                shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv,
                buyer_id="b", text="能便宜点吗", sent_at=T0,
            )
        )  # fmt: skip
        for s, text in ((30, "亲，加我微信abc123，给您便宜"), (50, "好的亲，已经给您备注了")):
            await pub.event(
                MessageSent(
                    shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv,
                    buyer_id="b", sender_kind="agent", sender_id=agent, text=text,
                    sent_at=T0 + timedelta(seconds=s),
                )
            )  # fmt: skip

        async def scored() -> bool:
            async with rt.engine.connect() as conn:
                q = store.quality_scores
                query = select(func.count()).select_from(q).where(q.c.shop_id == shop_id)
                return (await conn.execute(query)).scalar_one() == 1

        await wait_until(scored, 20, "the session scored")
        while await snapshotter.run_once():
            pass
        [snap] = await col.wait_count("cs.kpi.snapshot.v1", 1, shop_id=shop_id)
        quality = snap.data["quality"]
        assert quality["inspected_replies"] == 2
        assert quality["flags"] == {"off_platform": 1}
        assert quality["scored_sessions"] == 1
        assert quality["failed_sessions"] == 1
        assert quality["score_avg"] == 60.0  # 100 - the off_platform weight (40)
