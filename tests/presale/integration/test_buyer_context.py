"""The buyer's order and the conversation's stage reach the classifier through events only
(issue 16), on the real broker and database: 今天发货吗 is an urge from a buyer who has paid,
a shipping-time question the bot answers from a buyer without an order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.presale.app import build_runtime
from services.presale.store import tables
from shared.clock import FakeClock
from shared.contracts import HandoffRequested, MessageReceived, OrderChanged
from shared.ids import new_id
from shared.runtime import ServiceRuntime
from tests.presale.integration.conftest import START, settings_for
from tests.support.kafka import collecting, publisher
from tests.support.runtime import handled, idle, started

DEMO = Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml"
CLASSIFIED, REPLY = "cs.message.classified.v1", "cs.reply.requested.v1"


@pytest.fixture
async def presale(
    infra: Any, shop_id: str, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    kb_file = tmp_path / "kb.yaml"
    kb_file.write_text(DEMO.read_text().replace("shop_id: shop-demo", f"shop_id: {shop_id}", 1))
    settings = settings_for(infra, shop_id, presale_kb_files=str(kb_file))
    async with started(build_runtime(settings, clock=clock)) as runtime:
        yield runtime


def order(shop_id: str, buyer_id: str, order_id: str, status: str, at: datetime) -> OrderChanged:
    return OrderChanged(
        shop_id=shop_id, order_id=order_id, buyer_id=buyer_id, status=status,  # type: ignore[arg-type]
        total_fee=12_900, items=[], created_at=at - timedelta(hours=1), changed_at=at,
        paid_at=at if status != "WAIT_BUYER_PAY" else None,
    )  # fmt: skip


def message(shop_id: str, buyer_id: str, text: str, at: datetime) -> MessageReceived:
    return MessageReceived(
        shop_id=shop_id, message_id=new_id(), conversation_id=f"{shop_id}:{buyer_id}",
        buyer_id=buyer_id, text=text, sent_at=at,
    )  # fmt: skip


async def latest_order(rt: ServiceRuntime, shop_id: str, buyer_id: str) -> Any:
    t = tables.buyer_orders
    async with rt.engine.connect() as conn:
        return (
            await conn.execute(select(t).where(t.c.shop_id == shop_id, t.c.buyer_id == buyer_id))
        ).one_or_none()


async def test_todays_shipping_is_an_urge_after_paying_and_a_kb_question_without_an_order(
    infra: Any, presale: ServiceRuntime, shop_id: str, clock: FakeClock
) -> None:
    paid_buyer, new_buyer = f"buyer-{new_id()}", f"buyer-{new_id()}"
    async with collecting(infra.bootstrap, [CLASSIFIED, REPLY]) as seen, \
            publisher(infra.bootstrap) as pub:  # fmt: skip
        # The shop's orders have been followed for more than the window (30 days).
        first = await pub.event(order(shop_id, f"buyer-{new_id()}", new_id(), "TRADE_FINISHED",
                                      START))  # fmt: skip
        await handled(presale, first.headers["ce_id"])
        clock.advance(timedelta(days=31))
        now = clock.now()

        # Paid an hour ago; that event is redelivered (same id) and replayed (new id), and
        # the older "created, unpaid" event arrives late: the paid one stays.
        paid = order(shop_id, paid_buyer, "o-1", "WAIT_SELLER_SEND_GOODS", now - timedelta(hours=1))
        sent = await pub.event(paid)
        await pub.event(paid, event_id=sent.headers["ce_id"])
        replayed = await pub.event(paid)
        late = await pub.event(order(shop_id, paid_buyer, "o-1", "WAIT_BUYER_PAY",
                                     now - timedelta(hours=2)))  # fmt: skip
        await handled(presale, *(r.headers["ce_id"] for r in (sent, replayed, late)))
        row = await latest_order(presale, shop_id, paid_buyer)
        assert (row.order_id, row.status) == ("o-1", "WAIT_SELLER_SEND_GOODS")
        assert row.changed_at == now - timedelta(hours=1)

        urge = message(shop_id, paid_buyer, "今天发货吗", now)
        question = message(shop_id, new_buyer, "今天发货吗", now)
        await pub.event(urge)
        await pub.event(question)
        (answered,) = await seen.wait_count(REPLY, 1, in_reply_to=question.message_id)
        await idle(presale)
        await seen.caught_up()

    by_message = {c.data["message_id"]: c.data for c in seen.of(CLASSIFIED)}
    assert (by_message[urge.message_id]["intent"], by_message[urge.message_id]["stage"]) == (
        "urge_shipping",
        "insale",
    )
    assert (by_message[question.message_id]["intent"], by_message[question.message_id]["stage"]) \
        == ("shipping_time", "presale")  # fmt: skip
    assert answered.data["kind"] == "auto_answer"
    assert "小时内" in answered.data["text"]  # the KB's shipping time
    assert seen.of(REPLY, in_reply_to=urge.message_id) == []  # insale's to answer
    assert await latest_order(presale, shop_id, new_buyer) is None


async def test_an_open_refund_case_makes_not_wanting_it_a_return(
    infra: Any, presale: ServiceRuntime, shop_id: str
) -> None:
    """No order phase known, but aftersale handed the chat over with a refund: 不想要了 is a
    return, not a cancellation."""
    buyer = f"buyer-{new_id()}"
    async with collecting(infra.bootstrap, [CLASSIFIED]) as seen, \
            publisher(infra.bootstrap) as pub:  # fmt: skip
        before = message(shop_id, buyer, "不想要了", START)
        await pub.event(before)
        await seen.wait_count(CLASSIFIED, 1, message_id=before.message_id)
        handoff = await pub.event(HandoffRequested(
            shop_id=shop_id, handoff_id=new_id(), conversation_id=f"{shop_id}:{buyer}",
            buyer_id=buyer, skill="aftersale", reason="refund_needs_review", order_id="o-9",
            refund_id="r-9", requested_by="aftersale", requested_at=START + timedelta(minutes=1),
        ))  # fmt: skip
        await handled(presale, handoff.headers["ce_id"])
        after = message(shop_id, buyer, "不想要了", START + timedelta(minutes=2))
        await pub.event(after)
        await seen.wait_count(CLASSIFIED, 1, message_id=after.message_id)

    (first,) = seen.of(CLASSIFIED, message_id=before.message_id)
    (second,) = seen.of(CLASSIFIED, message_id=after.message_id)
    assert first.data["intent"] == "cancel_order"
    assert second.data["intent"] == "return_exchange"
