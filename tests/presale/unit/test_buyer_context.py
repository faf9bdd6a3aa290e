"""What presale knows of a buyer at classification (issue 16): the latest order's phase, the
conversation's stage, and how a batch folds order events in (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.context import Context

from services.presale.domain.buyer_context import (
    LatestOrder,
    OrderBook,
    buyer_context,
    next_stage,
    order_phase,
)
from services.presale.domain.conversation import Conversation, on_message
from services.presale.domain.nlu import BuyerContext
from services.presale.handlers.front_desk import FrontDesk
from services.presale.handlers.messages import Loaded, MessageBatch
from services.presale.handlers.order_feed import OrderHeard
from shared.batch import Item
from shared.cloudevents import Envelope
from shared.consumer import RawRecord
from shared.contracts import MessageReceived, OrderChanged

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
GAP = timedelta(minutes=30)


def order(status: str, at: datetime = NOW, order_id: str = "o1") -> LatestOrder:
    return LatestOrder(order_id, status, at)


# -- the order's phase --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("WAIT_BUYER_PAY", "unpaid"),
        ("WAIT_SELLER_SEND_GOODS", "paid"),
        ("SELLER_CONSIGNED_PART", "shipped"),
        ("WAIT_BUYER_CONFIRM_GOODS", "shipped"),
        ("TRADE_BUYER_SIGNED", "received"),
        ("TRADE_FINISHED", "received"),
        ("TRADE_CLOSED", None),  # a closed order says nothing of what the buyer has now
        ("TRADE_CLOSED_BY_TAOBAO", None),
    ],
)
def test_a_recent_order_gives_its_phase(status: str, phase: str | None) -> None:
    got = order_phase(order(status, NOW - timedelta(days=3)), followed_since=None, now=NOW)
    assert got == phase


def test_no_order_is_believed_only_once_the_shop_has_been_followed_for_the_whole_window() -> None:
    assert order_phase(None, followed_since=None, now=NOW) is None
    assert order_phase(None, followed_since=NOW - timedelta(days=29), now=NOW) is None
    assert order_phase(None, followed_since=NOW - WINDOW, now=NOW) == "none"
    assert order_phase(None, followed_since=NOW - timedelta(days=90), now=NOW) == "none"


def test_an_order_older_than_the_window_no_longer_counts() -> None:
    old = order("WAIT_SELLER_SEND_GOODS", NOW - timedelta(days=31))
    assert order_phase(old, followed_since=None, now=NOW) is None
    assert order_phase(old, followed_since=NOW - timedelta(days=60), now=NOW) == "none"
    short = timedelta(days=7)
    recent = order("WAIT_SELLER_SEND_GOODS", NOW - timedelta(days=8))
    assert order_phase(recent, followed_since=None, now=NOW, window=short) is None


# -- the conversation's stage ------------------------------------------------------------
@pytest.mark.parametrize(
    ("previous", "intent", "stage"),
    [
        (None, "product_spec", "presale"),
        (None, "urge_shipping", "insale"),
        ("presale", "refund", "aftersale"),
        ("aftersale", "stock", "presale"),  # a substantive question moves the stage
        ("aftersale", "greeting", "aftersale"),  # filler keeps it
        ("aftersale", "acknowledgement", "aftersale"),
        ("insale", "other", "insale"),
        (None, "acknowledgement", None),
    ],
)
def test_the_stage_is_that_of_the_last_substantive_message(
    previous: str | None, intent: str, stage: str | None
) -> None:
    assert next_stage(previous, intent) == stage  # type: ignore[arg-type]


def test_the_context_is_none_when_nothing_is_known() -> None:
    assert buyer_context(None, None) is None
    assert buyer_context("paid", None) == BuyerContext(order="paid")
    assert buyer_context(None, "aftersale") == BuyerContext(stage="aftersale")


# -- the book a batch folds order events into ---------------------------------------------
def test_the_latest_order_by_time_wins_whatever_the_arrival_order() -> None:
    events = [
        order("WAIT_BUYER_PAY", NOW - timedelta(hours=3)),
        order("WAIT_BUYER_CONFIRM_GOODS", NOW - timedelta(hours=1)),
        order("WAIT_SELLER_SEND_GOODS", NOW - timedelta(hours=2)),
    ]
    for arrival in (events, events[::-1], [events[1], events[0], events[2]]):
        book = OrderBook()
        for e in arrival:
            book.heard("s1", "b1", e, NOW)
        assert book.latest[("s1", "b1")].status == "WAIT_BUYER_CONFIRM_GOODS"
        assert book.phase("s1", "b1", NOW) == "shipped"


def test_a_redelivered_or_older_event_changes_nothing() -> None:
    known = order("WAIT_SELLER_SEND_GOODS", NOW - timedelta(hours=1))
    book = OrderBook(latest={("s1", "b1"): known}, followed_since={"s1": NOW - WINDOW})
    book.heard("s1", "b1", known, NOW)
    book.heard("s1", "b1", order("WAIT_BUYER_PAY", NOW - timedelta(hours=2)), NOW)
    same_time = order("TRADE_CLOSED", NOW - timedelta(hours=1))
    book.heard("s1", "b1", same_time, NOW)
    assert book.latest[("s1", "b1")] == known
    assert book.changed == set()
    assert book.new_shops == set()


def test_the_first_order_of_a_shop_starts_following_it() -> None:
    book = OrderBook()
    book.heard("s1", "b1", order("WAIT_BUYER_PAY"), NOW)
    assert book.followed_since == {"s1": NOW}
    assert book.new_shops == {"s1"}
    assert book.phase("s1", "someone-else", NOW) is None  # not followed long enough
    assert book.phase("s1", "someone-else", NOW + WINDOW) == "none"


# -- a message is classified with what is known -------------------------------------------
def message(conv: Conversation | None, text: str, **kw: object):  # type: ignore[no-untyped-def]
    return on_message(
        conv, conversation_id="c1", shop_id="s1", buyer_id="b1", buyer_level=None, text=text,
        item_id=None, sent_at=NOW, kb=None, now=NOW, session_gap=GAP, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_same_words_mean_an_urge_after_paying_and_a_shipping_question_before() -> None:
    paid = message(None, "今天发货吗", order="paid").understanding
    before = message(None, "今天发货吗", order="none").understanding
    unknown = message(None, "今天发货吗").understanding
    assert (paid.intent, paid.stage) == ("urge_shipping", "insale")
    assert (before.intent, before.stage) == ("shipping_time", "presale")
    assert unknown.intent == "shipping_time"  # the text alone


def test_the_conversation_keeps_its_stage_for_the_next_message() -> None:
    first = message(None, "我要退款")
    assert first.conversation.stage == "aftersale"
    thanks = message(first.conversation, "好的谢谢")
    assert thanks.conversation.stage == "aftersale"
    # In an after-sale conversation, with no order phase known, 不想要了 is a return.
    after = message(thanks.conversation, "不想要了")
    assert after.understanding.intent == "return_exchange"


# -- the batch: an order event before a message of the same batch --------------------------
def item(payload: MessageReceived | OrderChanged, topic: str, n: int) -> Item:
    env = Envelope(id=f"e{n}", source="/tests", type=topic, time=NOW, subject=None)
    return Item(RawRecord(topic, 0, n, None, None, []), {}, env, payload, Context())


def test_a_message_after_an_order_event_in_the_same_batch_sees_the_order() -> None:
    logic = FrontDesk(MessageBatch(GAP), WINDOW)
    state = Loaded({}, {})
    paid = OrderChanged(
        shop_id="s1", order_id="o1", buyer_id="b1", status="WAIT_SELLER_SEND_GOODS",
        total_fee=100, items=[], created_at=NOW, paid_at=NOW, changed_at=NOW,
    )  # fmt: skip
    text = MessageReceived(
        shop_id="s1", message_id="m1", conversation_id="c1", buyer_id="b1", text="今天发货吗",
        sent_at=NOW,
    )  # fmt: skip
    heard = logic.decide(state, item(paid, "trade.order.changed.v1", 1), NOW)
    assert isinstance(heard.changes, OrderHeard)
    assert heard.effects.events == []
    assert state.orders.latest == {}  # decide is pure
    logic.apply(state, heard)
    assert state.orders.changed == {("s1", "b1")}
    decided = logic.decide(state, item(text, "cs.message.received.v1", 2), NOW)
    (classified,) = [e.payload for e in decided.effects.events]
    assert (classified.intent, classified.stage) == ("urge_shipping", "insale")  # type: ignore[union-attr]
