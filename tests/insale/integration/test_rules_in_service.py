"""Reminder series and logistics stalls, step by step through the running service."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.clock import FakeClock
from tests.insale.factories import SHANGHAI, order_event, tracking_event, uid
from tests.insale.integration.conftest import fire_all, handled
from tests.support.kafka import collecting, publisher
from tests.support.runtime import idle

REPLIES = "cs.reply.requested.v1"
ALERTS = "cs.order.alert.v1"
H = timedelta(hours=1)


async def test_second_reminder_waits_for_the_morning(infra, insale, clock: FakeClock) -> None:
    shop = uid("shop")
    order = uid("o")
    evening = datetime(2026, 11, 10, 20, 0, tzinfo=SHANGHAI)
    clock.set(evening)
    async with (
        collecting(infra.bootstrap, [REPLIES]) as col,
        publisher(infra.bootstrap) as pub,
        insale(
            insale_unpaid_max_reminders=2,
            insale_reminder_templates={shop: "「{item}」{close_time}关闭"},
        ) as rt,
    ):
        rt.timer_runner.stop()
        r = await pub.event(order_event(order, "WAIT_BUYER_PAY", evening, shop_id=shop,
                                        timeout_action_time=evening + 24 * H))  # fmt: skip
        await handled(rt, r.headers["ce_id"])
        for at in (evening + 0.5 * H, evening + 5 * H, evening + 11.9 * H, evening + 12 * H,
                   evening + 20 * H):  # fmt: skip
            clock.set(at)
            await fire_all(rt)
        await rt.relay.relay_once()
        got = await col.wait_count(REPLIES, 2, shop_id=shop)
        await idle(rt)
        await col.caught_up()
    sent = [datetime.fromisoformat(s.data["requested_at"]) for s in col.of(REPLIES, shop_id=shop)]
    assert sent == [evening + 0.5 * H, evening + 12 * H]  # 20:30, then 08:00 (not 00:30)
    assert got[0].data["text"] == "「纯棉白色T恤」11月11日 20:00关闭"


async def test_each_stall_gets_one_apology_and_one_alert(infra, insale, clock: FakeClock) -> None:
    shop = uid("shop")
    order = uid("o")
    t0 = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
    clock.set(t0)
    async with (
        collecting(infra.bootstrap, [REPLIES, ALERTS]) as col,
        publisher(infra.bootstrap) as pub,
        insale() as rt,
    ):
        rt.timer_runner.stop()

        async def deliver(*events) -> None:  # type: ignore[no-untyped-def]
            records = [await pub.event(e) for e in events]
            await handled(rt, *(r.headers["ce_id"] for r in records))

        await deliver(
            order_event(order, "WAIT_BUYER_CONFIRM_GOODS", t0, shop_id=shop, paid_at=t0 - H,
                        consign_time=t0, logistics_company="中通快递", tracking_no="ZT123456789012"),
            tracking_event(order, "ACCEPTED", t0 + H, shop_id=shop),
        )  # fmt: skip
        clock.set(t0 + 73 * H - timedelta(seconds=1))
        await fire_all(rt)  # 72 h after the last event is not yet reached
        clock.set(t0 + 73 * H)
        await fire_all(rt)  # first stall: silence
        clock.set(t0 + 100 * H)
        await fire_all(rt)  # still the same stall: nothing more
        clock.set(t0 + 101 * H)
        await deliver(tracking_event(order, "IN_TRANSIT", t0 + 100 * H, shop_id=shop))
        await deliver(tracking_event(order, "EXCEPTION", t0 + 101 * H, shop_id=shop))  # second
        await deliver(tracking_event(order, "EXCEPTION", t0 + 101 * H, shop_id=shop))  # re-sent
        clock.set(t0 + 200 * H)
        await fire_all(rt)  # a stall already reported: no silence timer runs
        await rt.relay.relay_once()
        await col.wait_count(ALERTS, 2, shop_id=shop)
        await idle(rt)
        await col.caught_up()
    kinds = [s.data["kind"] for s in col.of(REPLIES, shop_id=shop)]
    assert kinds == ["notification", "apology", "apology"]
    alerts = col.of(ALERTS, shop_id=shop)
    assert [a.data["kind"] for a in alerts] == ["logistics_stalled"] * 2
    assert [datetime.fromisoformat(a.data["raised_at"]) for a in alerts] == [
        t0 + 73 * H,
        t0 + 101 * H,
    ]
    assert "物流异常" in alerts[1].data["detail"]
