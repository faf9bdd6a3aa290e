"""催付 on the real stack: one reminder for an order left unpaid, none once paid or closed."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FakeClock
from tests.insale.factories import T0, order_event, uid
from tests.insale.integration.conftest import fire_all, handled
from tests.support.kafka import collecting, publisher
from tests.support.runtime import idle

REPLIES = "cs.reply.requested.v1"


async def test_unpaid_order_gets_exactly_one_reminder_and_paid_or_closed_none(
    infra, insale, clock: FakeClock
) -> None:
    shop = uid("shop")
    unpaid, paid, closed = uid("o"), uid("o"), uid("o")
    async with (
        collecting(infra.bootstrap, [REPLIES]) as col,
        publisher(infra.bootstrap) as pub,
        insale() as rt,
    ):
        ids = []
        for o in (unpaid, paid, closed):
            r = await pub.event(
                order_event(
                    o,
                    "WAIT_BUYER_PAY",
                    T0,
                    shop_id=shop,
                    buyer_id=f"b-{o}",
                    timeout_action_time=T0 + timedelta(hours=24),
                )
            )
            ids.append(r.headers["ce_id"])
        r1 = await pub.event(
            order_event(paid, "WAIT_SELLER_SEND_GOODS", T0 + timedelta(minutes=10), shop_id=shop,
                        buyer_id=f"b-{paid}", created_at=T0, paid_at=T0 + timedelta(minutes=10))
        )  # fmt: skip
        r2 = await pub.event(
            order_event(closed, "TRADE_CLOSED", T0 + timedelta(minutes=20), shop_id=shop,
                        buyer_id=f"b-{closed}", created_at=T0)
        )  # fmt: skip
        await handled(rt, *ids, r1.headers["ce_id"], r2.headers["ce_id"])

        clock.set(T0 + timedelta(minutes=29))
        await fire_all(rt)
        clock.set(T0 + timedelta(minutes=31))
        await fire_all(rt)
        clock.set(T0 + timedelta(hours=5))
        await fire_all(rt)

        seen = await col.wait_count(REPLIES, 1, shop_id=shop)
        reminder = seen[0].data
        assert reminder["order_id"] == unpaid
        assert reminder["sender"] == "system"
        assert reminder["kind"] == "reminder"
        assert reminder["conversation_id"] == f"{shop}:b-{unpaid}"
        assert "纯棉白色T恤" in reminder["text"]
        assert "11月11日 14:00" in reminder["text"]  # when the order closes, shop time
        await idle(rt)  # anything doubled has been published...
        await col.caught_up()  # ...and read
    assert len(col.of(REPLIES, shop_id=shop)) == 1
