"""Bad reviews, buyer questions routed from presale, the REST API and bad input."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.aftersale.factories import T0, classified, order, refund, review, uid
from tests.aftersale.integration.conftest import OPERATOR, OUT_TOPICS, SHOP_TOKEN, fire_all, handled
from tests.support.kafka import collecting, publisher

OPENED, HANDOFF, REPLY = "cs.case.opened.v1", "cs.handoff.requested.v1", "cs.reply.requested.v1"


async def test_bad_review_gets_one_apology_in_business_hours_and_a_handoff(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    shop, buyer, o = uid("shop"), uid("b"), uid("o")
    night = T0.replace(hour=23, minute=40)
    clock.set(night)
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        bad = await pub.event(review(uid("rv"), o, "bad", shop_id=shop, buyer_id=buyer, at=night,
                                     content="垃圾质量,电话13812345678,再也不买了"))  # fmt: skip
        neutral = await pub.event(review(uid("rv"), o, "neutral", shop_id=shop, buyer_id=buyer))
        await handled(aftersale, bad.headers["ce_id"], neutral.headers["ce_id"])
        opened = await col.wait_count(OPENED, 1, shop_id=shop)
        assert opened[0].data["kind"] == "bad_review"
        handoff = await col.wait_count(HANDOFF, 1, shop_id=shop)
        assert "13812345678" not in handoff[0].data["summary"]  # masked
        assert col.of(REPLY, shop_id=shop) == []  # not at night
        clock.set(night.replace(hour=8, minute=59) + timedelta(days=1))
        await fire_all(aftersale)
        await aftersale.relay.relay_once()
        assert col.of(REPLY, shop_id=shop) == []
        clock.set(night.replace(hour=9, minute=0) + timedelta(days=1))
        await fire_all(aftersale)
        replies = await col.wait_count(REPLY, 1, shop_id=shop)
        assert replies[0].data["kind"] == "apology"
        clock.set(night + timedelta(days=3))
        await fire_all(aftersale)
        await aftersale.relay.relay_once()
        assert len(col.of(REPLY, shop_id=shop)) == 1
        async with api(aftersale) as client:
            r = await client.get(f"/api/v1/shops/{shop}/reviews/summary",
                                 headers=bearer(OPERATOR))  # fmt: skip
        assert r.json()["counts"] == {"good": 0, "neutral": 1, "bad": 1}


async def test_bad_review_in_business_hours_is_apologised_at_once(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop, buyer = uid("shop"), uid("b")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        await pub.event(review(uid("rv"), uid("o"), "bad", shop_id=shop, buyer_id=buyer))
        replies = await col.wait_count(REPLY, 1, shop_id=shop)
        assert replies[0].data["kind"] == "apology"
        await col.wait_count(HANDOFF, 1, shop_id=shop)


async def test_buyer_questions_are_answered_from_their_actual_order(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop = uid("shop")
    paid_buyer, signed_buyer, old_buyer, nobody = uid("b"), uid("b"), uid("b"), uid("b")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        ids = [
            (await pub.event(order(uid("o"), "WAIT_SELLER_SEND_GOODS", shop_id=shop,
                                   buyer_id=paid_buyer))).headers["ce_id"],
            (await pub.event(order(uid("o"), "TRADE_BUYER_SIGNED", shop_id=shop,
                                   buyer_id=signed_buyer, at=T0 - timedelta(days=2)))).headers["ce_id"],
            (await pub.event(order(uid("o"), "TRADE_FINISHED", shop_id=shop,
                                   buyer_id=old_buyer, at=T0 - timedelta(days=20)))).headers["ce_id"],
        ]  # fmt: skip
        await handled(aftersale, *ids)
        questions = {
            paid_buyer: classified("refund", shop_id=shop, buyer_id=paid_buyer),
            signed_buyer: classified("return_exchange", shop_id=shop, buyer_id=signed_buyer),
            old_buyer: classified("refund", shop_id=shop, buyer_id=old_buyer),
            nobody: classified("refund", shop_id=shop, buyer_id=nobody),
        }
        for q in questions.values():
            await pub.event(q)
        other_stage = classified("refund", shop_id=shop, buyer_id=uid("b"), stage="presale")
        skipped = await pub.event(other_stage)
        replies = await col.wait_count(REPLY, 4, shop_id=shop)
        await handled(aftersale, skipped.headers["ce_id"])
        text = {r.data["buyer_id"]: r.data for r in replies}
        assert "仅退款" in text[paid_buyer]["text"]
        assert "自动同意" in text[paid_buyer]["text"]
        assert "七天无理由退货期内" in text[signed_buyer]["text"]
        assert "已超过七天无理由" in text[old_buyer]["text"]
        assert "订单号" in text[nobody]["text"]
        assert text[nobody]["kind"] == "clarify"
        for buyer, q in questions.items():
            assert text[buyer]["in_reply_to"] == q.message_id
        handoffs = await col.wait_count(HANDOFF, 1, shop_id=shop)
        assert [h.data["buyer_id"] for h in handoffs] == [old_buyer]
        await aftersale.relay.relay_once()
        assert col.of(REPLY, buyer_id=other_stage.buyer_id) == []


async def test_problem_reports_hand_off_with_the_right_priority(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop = uid("shop")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        sent = {}
        for intent in ("quality_issue", "missing_or_wrong_item", "complaint"):
            q = classified(intent, shop_id=shop, buyer_id=uid("b"), text="东西坏了")
            sent[q.buyer_id] = intent
            await pub.event(q)
        handoffs = await col.wait_count(HANDOFF, 3, shop_id=shop)
        replies = await col.wait_count(REPLY, 3, shop_id=shop)
    priority = {sent[h.data["buyer_id"]]: h.data["priority"] for h in handoffs}
    assert priority == {"quality_issue": "normal", "missing_or_wrong_item": "high",
                        "complaint": "high"}  # fmt: skip
    photos = [r for r in replies if sent[r.data["buyer_id"]] == "quality_issue"]
    assert "照片" in photos[0].data["text"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(rt: ServiceRuntime) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rt.app()), base_url="http://t")


async def test_case_history_through_the_api(
    infra, aftersale: ServiceRuntime, clock: FakeClock
) -> None:
    clock.set(T0)
    shop, buyer, o, r = "shop-api", uid("b"), uid("o"), uid("r")
    async with collecting(infra.bootstrap, OUT_TOPICS) as col, publisher(infra.bootstrap) as pub:
        await pub.event(order(o, "TRADE_BUYER_SIGNED", shop_id=shop, buyer_id=buyer))
        await pub.event(refund(r, o, shop_id=shop, buyer_id=buyer, refund_fee=30000))
        opened = await col.wait_count(OPENED, 1, refund_id=r)
    case_id = opened[0].data["case_id"]
    async with api(aftersale) as client:
        assert (await client.get(f"/api/v1/shops/{shop}/cases")).status_code == 401
        wrong = await client.get(f"/api/v1/shops/{shop}/cases", headers=bearer("nope"))
        assert wrong.status_code == 401
        other = await client.get("/api/v1/shops/shop-else/cases", headers=bearer(SHOP_TOKEN))
        assert other.status_code == 403
        missing = await client.get(f"/api/v1/shops/{shop}/cases/nope", headers=bearer(SHOP_TOKEN))
        assert missing.status_code == 404
        bad = await client.get(f"/api/v1/shops/{shop}/cases?limit=0", headers=bearer(SHOP_TOKEN))
        assert bad.status_code == 422
        listed = await client.get(
            f"/api/v1/shops/{shop}/cases?state=open", headers=bearer(SHOP_TOKEN)
        )
        assert case_id in [c["case_id"] for c in listed.json()["cases"]]
        detail = (await client.get(f"/api/v1/shops/{shop}/refunds/{r}",
                                   headers=bearer(SHOP_TOKEN))).json()  # fmt: skip
        assert detail["case_id"] == case_id
        assert detail["rule_id"] == "inconsistent.refund-exceeds-order"
        events = [h["event"] for h in detail["history"] if h["event"] != "awaiting_order"]
        assert events == ["opened", "decided_escalate", "handoff_aftersale"]
        risk = await client.get(
            f"/api/v1/shops/{shop}/buyers/{buyer}/risk", headers=bearer(OPERATOR)
        )
        assert risk.json()["signals"]["orders"] == 1
        policy = (
            await client.get(f"/api/v1/shops/{shop}/policy", headers=bearer(SHOP_TOKEN))
        ).json()
        assert policy["rules"][-1]["id"] == "default.escalate"


CONSUMED = [
    "trade.order.changed.v1",
    "trade.refund.requested.v1",
    "trade.refund.changed.v1",
    "trade.review.posted.v1",
    "cs.message.classified.v1",
]


async def _bad_then_good(infra, aftersale: ServiceRuntime, bad_value: bytes, marker: str,
                         timeout: float = 20.0) -> None:  # fmt: skip
    shop, buyer, o = uid("shop"), uid("b"), uid("o")
    async with (
        collecting(infra.bootstrap, [t + ".dlq" for t in CONSUMED] + OUT_TOPICS) as col,
        publisher(infra.bootstrap) as pub,
    ):
        for t in CONSUMED:
            await pub.raw(t, bad_value, key=o,
                          headers={"ce_id": uid("ce"), "ce_specversion": "1.0",
                                   "ce_type": f"com.xiaoer.{t}", "ce_source": "/tests",
                                   "content-type": "application/json"})  # fmt: skip
        await pub.event(order(o, "WAIT_SELLER_SEND_GOODS", shop_id=shop, buyer_id=buyer))
        await pub.event(refund(uid("r"), o, shop_id=shop, buyer_id=buyer, has_good_return=False,
                               good_status="BUYER_NOT_RECEIVED", reason="不想要了"))  # fmt: skip
        for t in CONSUMED:
            dlq = await col.wait_count(t + ".dlq", 1, timeout)
            hit = [s for s in dlq if marker.encode() in s.value]
            assert hit, f"no dead letter on {t}.dlq"
            assert hit[0].value == bad_value  # the original bytes
            assert hit[0].headers["x-dlq-reason"]
        decided = await col.wait_count("cs.refund.decided.v1", 1, timeout, shop_id=shop)
        assert decided[0].data["decision"] == "approve"


@pytest.mark.parametrize("kind", ["non-json", "invalid-payload"])
async def test_bad_input_on_every_consumed_topic_is_dead_lettered(
    infra, aftersale: ServiceRuntime, clock: FakeClock, kind: str
) -> None:
    """Not JSON, missing fields, wrong types: dead-lettered with the original bytes and the
    reason, and the next good event is still handled."""
    clock.set(T0)
    marker = uid("bad")
    if kind == "non-json":
        value = f"not json {marker}".encode()
    else:
        value = f'{{"shop_id": "{marker}", "order_id": 12, "refund_fee": "lots"}}'.encode()
    await _bad_then_good(infra, aftersale, value, marker)
