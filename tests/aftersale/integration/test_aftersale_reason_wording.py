"""Refund reasons as the platform writes them, end to end (issue 16)."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.aftersale.factories import T0, order, refund, uid
from tests.aftersale.integration.conftest import OUT_TOPICS, handled
from tests.support.kafka import collecting, publisher

DECIDED = "cs.refund.decided.v1"


async def test_a_variant_is_approved_and_an_unknown_reason_is_escalated_and_flagged(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop, buyer = uid("shop"), uid("b")
    o1, o2 = uid("o"), uid("o")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        for o in (o1, o2):
            e = await pub.event(order(o, "TRADE_BUYER_SIGNED", shop_id=shop, buyer_id=buyer,
                                      at=T0 - timedelta(days=2)))  # fmt: skip
            await handled(aftersale, e.headers["ce_id"])
        r1, r2 = uid("r"), uid("r")
        await pub.event(refund(r1, o1, shop_id=shop, buyer_id=buyer, reason="七天无理由退换货"))
        await pub.event(refund(r2, o2, shop_id=shop, buyer_id=buyer, reason="商品降价/买贵了"))
        decided = await col.wait_count(DECIDED, 2, shop_id=shop)
        by_refund = {d.data["refund_id"]: d.data for d in decided}
        assert (by_refund[r1]["decision"], by_refund[r1]["rule_id"]) == (
            "approve",
            "seven-day.return",
        )
        assert by_refund[r1]["reason_recognised"] is True
        assert by_refund[r1]["reason_group"] == "no_reason"
        assert by_refund[r1]["refund_reason"] == "七天无理由退换货"
        unknown = by_refund[r2]
        assert (unknown["decision"], unknown["rule_id"]) == ("escalate", "reason.unrecognised")
        assert unknown["reason_recognised"] is False
        assert unknown["reason_group"] is None
        assert "unrecognised refund reason" in unknown["reason"]
