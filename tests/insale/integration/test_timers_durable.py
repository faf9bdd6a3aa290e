"""Timers live in the database: they survive a restart, and two replicas fire each once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from services.insale import store
from services.insale.app import timer_handlers
from services.insale.rules import rules_from_settings
from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.insale.factories import T0, order_event, uid
from tests.insale.integration.conftest import fire_all, handled, insale_settings
from tests.support.kafka import collecting, publisher
from tests.support.runtime import idle, started

REPLIES = "cs.reply.requested.v1"
ALERTS = "cs.order.alert.v1"


async def test_timers_survive_a_restart_and_fire_on_time(infra, insale, clock: FakeClock) -> None:
    shop = uid("shop")
    unpaid, paid = uid("o"), uid("o")
    async with collecting(infra.bootstrap, [REPLIES, ALERTS]) as col:
        async with publisher(infra.bootstrap) as pub, insale() as rt:
            rt.timer_runner.stop()
            a = await pub.event(order_event(unpaid, "WAIT_BUYER_PAY", T0, shop_id=shop))
            b = await pub.event(
                order_event(paid, "WAIT_SELLER_SEND_GOODS", T0, shop_id=shop, paid_at=T0)
            )
            await handled(rt, a.headers["ce_id"], b.headers["ce_id"])
        # The first runtime is gone; a new one (a restarted process) takes over its timers.
        async with insale() as rt2:
            rt2.timer_runner.stop()
            clock.set(T0 + timedelta(minutes=29))
            await fire_all(rt2)
            await idle(rt2)
            await col.caught_up()
            assert col.of(REPLIES, shop_id=shop) == []  # not before it is due
            clock.set(T0 + timedelta(minutes=30))
            await fire_all(rt2)
            clock.set(T0 + timedelta(hours=42))  # paid at T0: at risk 6 h before T0 + 48 h
            await fire_all(rt2)
            await rt2.relay.relay_once()
            await col.wait_count(REPLIES, 1, shop_id=shop, order_id=unpaid)
            await col.wait_count(ALERTS, 1, shop_id=shop, order_id=paid)
            reply = col.of(REPLIES, shop_id=shop)[0].data
            assert reply["kind"] == "reminder"
            assert datetime.fromisoformat(reply["requested_at"]) == T0 + timedelta(minutes=30)
            alert = col.of(ALERTS, shop_id=shop)[0].data
            assert alert["kind"] == "ship_deadline_at_risk"


async def test_two_replicas_fire_each_timer_exactly_once(infra, insale, clock: FakeClock) -> None:
    """The second replica only fires timers: two consumers leaving one group make the next
    join on the dev broker hang for long, and consuming is not what is tested here."""
    shop = uid("shop")
    orders = [uid("o") for _ in range(120)]
    settings = insale_settings(infra, timer_batch_size=7)
    replica = ServiceRuntime(
        settings,
        store.metadata,
        {},
        timer_handlers=timer_handlers(rules_from_settings(settings)),
        clock=clock,
    )
    async with (
        collecting(infra.bootstrap, [REPLIES]) as col,
        publisher(infra.bootstrap) as pub,
        insale(timer_batch_size=7) as one,
        started(replica) as two,
    ):
        for rt in (one, two):
            rt.timer_runner.stop()
        ids = []
        for o in orders:
            r = await pub.event(order_event(o, "WAIT_BUYER_PAY", T0, shop_id=shop))
            ids.append(r.headers["ce_id"])
        await handled(one, *ids)
        clock.set(T0 + timedelta(hours=1))
        fired = await asyncio.gather(*(fire_all(rt) for rt in (one, two, one, two)))
        assert sum(fired) >= len(orders)
        for rt in (one, two):
            await rt.relay.relay_once()
        await col.wait_count(REPLIES, len(orders), shop_id=shop)
        for rt in (one, two):
            await idle(rt)
        await col.caught_up()
    per_order = [s.data["order_id"] for s in col.of(REPLIES, shop_id=shop)]
    assert sorted(per_order) == sorted(orders)
