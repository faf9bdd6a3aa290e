"""Refund cases on the real broker and database: decisions, deadlines, platform changes."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.aftersale.factories import T0, order, refund, refund_change, uid
from tests.aftersale.integration.conftest import OUT_TOPICS, fire_all, handled
from tests.support.kafka import collecting, publisher

OPENED, RESOLVED, DECIDED = "cs.case.opened.v1", "cs.case.resolved.v1", "cs.refund.decided.v1"
HANDOFF, ALERT, REPLY = "cs.handoff.requested.v1", "cs.order.alert.v1", "cs.reply.requested.v1"


async def test_refund_only_before_shipping_is_approved_and_late_return_escalated(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop, buyer = uid("shop"), uid("b")
    paid, signed = uid("o"), uid("o")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        await pub.event(order(paid, "WAIT_SELLER_SEND_GOODS", shop_id=shop, buyer_id=buyer))
        e = await pub.event(order(signed, "TRADE_BUYER_SIGNED", shop_id=shop, buyer_id=buyer,
                                  at=T0 - timedelta(days=12)))  # fmt: skip
        await handled(aftersale, e.headers["ce_id"])
        r1, r2 = uid("r"), uid("r")
        await pub.event(refund(r1, paid, shop_id=shop, buyer_id=buyer, reason="不想要了",
                               has_good_return=False, good_status="BUYER_NOT_RECEIVED"))  # fmt: skip
        await pub.event(refund(r2, signed, shop_id=shop, buyer_id=buyer))
        decided = await col.wait_count(DECIDED, 2, shop_id=shop)
        await col.wait_count(OPENED, 2, shop_id=shop)
        by_refund = {d.data["refund_id"]: d.data for d in decided}
        assert by_refund[r1]["decision"] == "approve"
        assert by_refund[r1]["rule_id"] == "refund-only.not-shipped"
        assert by_refund[r2]["decision"] == "escalate"
        assert by_refund[r2]["rule_id"] == "seven-day.expired"
        assert all(d["reason"] and d["decided_at"] for d in by_refund.values())
        handoffs = await col.wait_count(HANDOFF, 1, shop_id=shop)
        assert [h.data["refund_id"] for h in handoffs] == [r2]
        assert handoffs[0].data["priority"] == "high"
        assert handoffs[0].data["skill"] == "aftersale"
        assert "seven-day.expired" in handoffs[0].data["summary"]


async def test_redelivered_and_resent_requests_do_not_double(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop, buyer, o, r = uid("shop"), uid("b"), uid("o"), uid("r")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        await pub.event(order(o, "WAIT_SELLER_SEND_GOODS", shop_id=shop, buyer_id=buyer))
        req = refund(r, o, shop_id=shop, buyer_id=buyer, has_good_return=False,
                     good_status="BUYER_NOT_RECEIVED", reason="不想要了")  # fmt: skip
        same = uid("ce")
        a = await pub.event(req, event_id=same)
        b = await pub.event(req, event_id=same)  # redelivery
        c = await pub.event(req)  # the platform re-sends it under a new id
        await handled(aftersale, a.headers["ce_id"], b.headers["ce_id"], c.headers["ce_id"])
        await col.wait_count(DECIDED, 1, shop_id=shop)
        await col.wait_count(OPENED, 1, shop_id=shop)
        await aftersale.relay.relay_once()
        assert len(col.of(DECIDED, shop_id=shop)) == 1
        assert len(col.of(OPENED, shop_id=shop)) == 1


async def test_return_received_hands_off_before_the_platform_deadline_then_alerts(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    """The buyer sent the goods back: a human must confirm them before the platform refunds."""
    clock.set(T0)
    shop, buyer, o, r = uid("shop"), uid("b"), uid("o"), uid("r")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        await pub.event(order(o, "TRADE_BUYER_SIGNED", shop_id=shop, buyer_id=buyer))
        await pub.event(refund(r, o, shop_id=shop, buyer_id=buyer))
        d = await col.wait_count(DECIDED, 1, shop_id=shop)
        assert d[0].data["decision"] == "approve"
        assert d[0].data["rule_id"] == "seven-day.return"
        await pub.event(refund_change(r, o, "WAIT_BUYER_RETURN_GOODS", shop_id=shop,
                                      changed_at=T0 + timedelta(hours=1),
                                      timeout=T0 + timedelta(days=7)))  # fmt: skip
        returned_at = T0 + timedelta(days=2)
        deadline = returned_at + timedelta(days=10)
        e = await pub.event(refund_change(r, o, "WAIT_SELLER_CONFIRM_GOODS", shop_id=shop,
                                          changed_at=returned_at, timeout=deadline))  # fmt: skip
        await handled(aftersale, e.headers["ce_id"])
        clock.set(deadline - timedelta(hours=12, minutes=1))
        await fire_all(aftersale)
        assert col.of(HANDOFF, shop_id=shop) == []
        clock.set(deadline - timedelta(hours=12))
        await fire_all(aftersale)
        h = await col.wait_count(HANDOFF, 1, shop_id=shop)
        assert h[0].data["priority"] == "high"
        assert h[0].data["reason"] == "refund deadline near"
        clock.set(deadline - timedelta(hours=2))
        await fire_all(aftersale)
        alerts = await col.wait_count(ALERT, 1, shop_id=shop)
        assert alerts[0].data["kind"] == "refund_deadline_near"
        assert alerts[0].data["refund_id"] == r
        s = await pub.event(refund_change(r, o, "SUCCESS", shop_id=shop,
                                          changed_at=deadline - timedelta(hours=1)))  # fmt: skip
        await handled(aftersale, s.headers["ce_id"])
        resolved = await col.wait_count(RESOLVED, 1, shop_id=shop)
        assert resolved[0].data["outcome"] == "refunded"
        clock.set(deadline + timedelta(days=1))
        await fire_all(aftersale)
        await aftersale.relay.relay_once()
        assert len(col.of(HANDOFF, shop_id=shop)) == 1
        assert len(col.of(ALERT, shop_id=shop)) == 1


async def test_dispute_goes_to_a_senior_agent_with_a_summary(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop, buyer, o, r = uid("shop"), uid("b"), uid("o"), uid("r")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        await pub.event(order(o, "TRADE_BUYER_SIGNED", shop_id=shop, buyer_id=buyer))
        await pub.event(refund(r, o, shop_id=shop, buyer_id=buyer, reason="质量问题",
                               refund_fee=15000))  # fmt: skip
        first = await col.wait_count(HANDOFF, 1, shop_id=shop)
        assert first[0].data["skill"] == "aftersale"
        replies = await col.wait_count(REPLY, 1, shop_id=shop)  # asks for evidence
        assert "照片" in replies[0].data["text"]
        for i, cs in enumerate((1, 2, 3)):
            await pub.event(refund_change(r, o, "SELLER_REFUSE_BUYER", shop_id=shop, cs_status=cs,
                                          changed_at=T0 + timedelta(hours=1 + i),
                                          timeout=T0 + timedelta(days=7)))  # fmt: skip
        senior = await col.wait_count(HANDOFF, 1, shop_id=shop, skill="senior")
        summary = senior[0].data["summary"]
        assert "quality.needs-evidence" in summary
        assert "150.00" in summary
        assert senior[0].data["priority"] == "urgent"
        alert = await col.wait_count(ALERT, 1, shop_id=shop, kind="refund_dispute")
        assert alert[0].data["refund_id"] == r
        done = await pub.event(refund_change(r, o, "SUCCESS", shop_id=shop, cs_status=6,
                                             changed_at=T0 + timedelta(days=2)))  # fmt: skip
        await handled(aftersale, done.headers["ce_id"])
        await col.wait_count(RESOLVED, 1, shop_id=shop)
        await aftersale.relay.relay_once()
        assert len(col.of(HANDOFF, shop_id=shop, skill="senior")) == 1


async def test_a_change_consumed_before_its_request_is_applied_on_opening(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop, buyer, o, r = uid("shop"), uid("b"), uid("o"), uid("r")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        await pub.event(order(o, "WAIT_SELLER_SEND_GOODS", shop_id=shop, buyer_id=buyer))
        c = await pub.event(refund_change(r, o, "CLOSED", shop_id=shop,
                                          changed_at=T0 + timedelta(minutes=5)))  # fmt: skip
        await handled(aftersale, c.headers["ce_id"])
        await pub.event(refund(r, o, shop_id=shop, buyer_id=buyer, has_good_return=False,
                               good_status="BUYER_NOT_RECEIVED", reason="不想要了"))  # fmt: skip
        resolved = await col.wait_count(RESOLVED, 1, shop_id=shop)
        assert resolved[0].data["outcome"] == "closed"
        assert len(col.of(OPENED, shop_id=shop)) == 1


async def test_serial_refunder_and_claimant_threats_are_escalated_never_approved(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop = uid("shop")
    serial, threat, clean = uid("serial"), uid("threat"), uid("clean")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        ids = []
        for buyer, n in ((serial, 7), (threat, 2), (clean, 1)):
            for i in range(n):
                o = f"{buyer}-o{i}"
                e = await pub.event(order(o, "TRADE_BUYER_SIGNED", shop_id=shop, buyer_id=buyer))
                ids.append(e.headers["ce_id"])
        await handled(aftersale, *ids)
        for i in range(7):  # one refund a day: each one alone would be approved
            clock.set(T0 + timedelta(days=i))
            e = await pub.event(refund(f"{serial}-r{i}", f"{serial}-o{i}", shop_id=shop,
                                       buyer_id=serial, requested_at=T0 + timedelta(days=i),
                                       reason="质量问题", refund_fee=2000))  # fmt: skip
            await handled(aftersale, e.headers["ce_id"])
        e = await pub.event(refund(f"{threat}-r0", f"{threat}-o0", shop_id=shop, buyer_id=threat,
                                   reason="质量问题", refund_fee=2000,
                                   description="假货!假一赔十,不退我就打12315投诉到工商"))  # fmt: skip
        await handled(aftersale, e.headers["ce_id"])
        await pub.event(refund(f"{threat}-r1", f"{threat}-o1", shop_id=shop, buyer_id=threat,
                               requested_at=T0 + timedelta(days=7), reason="不想要了"))  # fmt: skip
        await pub.event(refund(f"{clean}-r0", f"{clean}-o0", shop_id=shop, buyer_id=clean,
                               reason="质量问题", refund_fee=2000))  # fmt: skip
        decided = await col.wait_count(DECIDED, 10, shop_id=shop)
    by_id = {d.data["refund_id"]: d.data for d in decided}
    serial_decisions = [by_id[f"{serial}-r{i}"] for i in range(7)]
    assert [d["decision"] for d in serial_decisions[:3]] == ["approve"] * 3
    for d in serial_decisions[3:]:  # from the 4th refund in 30 days on
        assert (d["decision"], d["rule_id"]) == ("escalate", "risk.high-buyer-risk"), d
    for r in (f"{threat}-r0", f"{threat}-r1"):
        assert (by_id[r]["decision"], by_id[r]["rule_id"]) == ("escalate", "risk.high-buyer-risk")
        assert "12315" in by_id[r]["reason"]
    assert by_id[f"{clean}-r0"]["decision"] == "approve"


async def test_a_refund_for_an_order_not_seen_yet_waits_for_it_then_escalates(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    """The order's events travel on another topic: a short grace, then 'unknown order'."""
    clock.set(T0)
    shop, buyer = uid("shop"), uid("b")
    late, never = uid("o"), uid("o")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        a = await pub.event(refund(uid("r"), late, shop_id=shop, buyer_id=buyer,
                                   has_good_return=False, good_status="BUYER_NOT_RECEIVED",
                                   reason="不想要了"))  # fmt: skip
        b = await pub.event(refund(uid("r"), never, shop_id=shop, buyer_id=buyer))
        await handled(aftersale, a.headers["ce_id"], b.headers["ce_id"])
        await col.wait_count(OPENED, 2, shop_id=shop)
        assert col.of(DECIDED, shop_id=shop) == []
        await pub.event(order(late, "WAIT_SELLER_SEND_GOODS", shop_id=shop, buyer_id=buyer))
        first = await col.wait_count(DECIDED, 1, shop_id=shop)
        assert (first[0].data["order_id"], first[0].data["rule_id"]) == (
            late,
            "refund-only.not-shipped",
        )
        clock.set(T0 + timedelta(minutes=2))
        await fire_all(aftersale)
        second = await col.wait_count(DECIDED, 1, shop_id=shop, order_id=never)
        assert second[0].data["rule_id"] == "inconsistent.unknown-order"
        assert second[0].data["decision"] == "escalate"
        await col.wait_count(HANDOFF, 1, shop_id=shop, order_id=never)
