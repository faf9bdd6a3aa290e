"""Buyers' in-sale questions on the real stack: answers, hand-offs, and the right conversation."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FakeClock
from tests.insale.factories import T0, classified, order_event, tracking_event, uid
from tests.insale.integration.conftest import handled
from tests.support.kafka import collecting, publisher
from tests.support.runtime import idle

REPLIES = "cs.reply.requested.v1"
HANDOFFS = "cs.handoff.requested.v1"
H = timedelta(hours=1)


async def test_questions_are_answered_from_the_projection(infra, insale, clock: FakeClock) -> None:
    shop, b1, b2 = uid("shop"), uid("b"), uid("b")
    paid, first, second = uid("o"), uid("o"), uid("o")
    conv = uid("conv")
    clock.set(T0 + 2 * H)
    async with (
        collecting(infra.bootstrap, [REPLIES, HANDOFFS]) as col,
        publisher(infra.bootstrap) as pub,
        insale() as rt,
    ):
        ids = []
        for o, buyer in ((paid, b1), (first, b2), (second, b2)):
            r = await pub.event(order_event(o, "WAIT_SELLER_SEND_GOODS", T0, shop_id=shop,
                                            buyer_id=buyer, paid_at=T0))  # fmt: skip
            ids.append(r.headers["ce_id"])
        await handled(rt, *ids)

        ask = classified("address_change", shop_id=shop, buyer_id=b1, conversation_id=conv,
                         text="地址写错了，改成[地址]", sent_at=T0 + 2 * H)  # fmt: skip
        vague = classified("logistics_status", shop_id=shop, buyer_id=b2, sent_at=T0 + 2 * H)
        presale = classified("greeting", shop_id=shop, buyer_id=b1, stage="presale")
        for m in (ask, vague, presale):
            await pub.event(m)

        [reply] = await col.wait_count(REPLIES, 1, shop_id=shop, in_reply_to=ask.message_id)
        assert reply.data["conversation_id"] == conv
        assert reply.data["kind"] == "handoff_notice"
        assert reply.data["order_id"] == paid
        [handoff] = await col.wait_count(HANDOFFS, 1, shop_id=shop, buyer_id=b1)
        assert handoff.data["priority"] == "high"
        assert handoff.data["skill"] == "insale"
        assert handoff.data["conversation_id"] == conv
        assert handoff.data["order_id"] == paid
        assert handoff.data["reason"] == "address_change_before_shipping"

        [which] = await col.wait_count(REPLIES, 1, shop_id=shop, in_reply_to=vague.message_id)
        assert which.data["kind"] == "clarify"
        assert first in which.data["text"]
        assert second in which.data["text"]

        # The buyer's conversation is remembered: the shipped notice goes there.
        shipped = await pub.event(order_event(paid, "WAIT_BUYER_CONFIRM_GOODS", T0 + 3 * H,
                                              shop_id=shop, buyer_id=b1, created_at=T0,
                                              paid_at=T0, consign_time=T0 + 3 * H,
                                              logistics_company="顺丰速运",
                                              tracking_no="SF7700112233"))  # fmt: skip
        [notice] = await col.wait_count(REPLIES, 1, shop_id=shop, kind="notification")
        assert notice.data["conversation_id"] == conv
        assert notice.data["sender"] == "system"
        assert "顺丰速运" in notice.data["text"]
        assert "SF7700112233" in notice.data["text"]

        track = await pub.event(tracking_event(paid, "IN_TRANSIT", T0 + 4 * H, shop_id=shop))
        await handled(rt, shipped.headers["ce_id"], track.headers["ce_id"])
        where = classified("logistics_status", shop_id=shop, buyer_id=b1, conversation_id=conv,
                           sent_at=T0 + 5 * H)  # fmt: skip
        await pub.event(where)
        [status] = await col.wait_count(REPLIES, 1, shop_id=shop, in_reply_to=where.message_id)
        assert "SF7700112233" in status.data["text"]
        assert "杭州转运中心" in status.data["text"]
        assert status.data["kind"] == "auto_answer"
        await idle(rt)  # everything it will answer has been published...
        await col.caught_up()  # ...and read
    # the presale-stage message got nothing from insale
    assert col.of(REPLIES, in_reply_to=presale.message_id) == []
    assert len(col.of(HANDOFFS, shop_id=shop)) == 1
