"""Buyer questions answered from the projection, handed off when a person must act."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.insale.domain import answers, texts
from services.insale.domain.orders import apply_order_event, apply_tracking_event
from services.insale.domain.ship_watch import ShipPolicy
from tests.insale.factories import SHANGHAI, T0, order_event, tracking_event

H = timedelta(hours=1)
SHIP = ShipPolicy(ship_within=48 * H, risk_lead=6 * H)


def _order(status: str, order_id: str = "o1", **kw):
    return apply_order_event(None, order_event(order_id, status, T0 + H, created_at=T0, **kw))


UNPAID = _order("WAIT_BUYER_PAY", timeout_action_time=T0 + 24 * H)
PAID = _order("WAIT_SELLER_SEND_GOODS", paid_at=T0 + H)
SHIPPED = apply_tracking_event(
    _order("WAIT_BUYER_CONFIRM_GOODS", paid_at=T0 + H, consign_time=T0 + 2 * H,
           logistics_company="中通快递", tracking_no="ZT123456789012"),
    tracking_event("o1", "IN_TRANSIT", T0 + 3 * H, company="中通快递",
                   tracking_no="ZT123456789012"),
    "【杭州市】快件已到达 杭州转运中心",
).order  # fmt: skip
SIGNED = _order("TRADE_BUYER_SIGNED", paid_at=T0 + H, consign_time=T0 + 2 * H)
CLOSED = _order("TRADE_CLOSED")


def _ask(intent: str, order, now=T0 + 2 * H):
    return answers.answer(intent, order, [order] if order else [], now, SHIP, SHANGHAI)


def test_logistics_status_gives_courier_number_latest_status_place_and_time() -> None:
    a = _ask("logistics_status", SHIPPED)
    assert a.handoff is None
    assert a.kind == "auto_answer"
    assert a.order_id == "o1"
    for part in ("中通快递", "ZT123456789012", "运输中", "杭州转运中心", "11月10日 17:00"):
        assert part in a.text


def test_logistics_status_before_shipping_gives_the_promise() -> None:
    a = _ask("logistics_status", PAID)
    assert "11月12日 15:00" in a.text
    assert a.handoff is None


def test_urge_shipping_gives_the_promise_and_escalates_once_it_passed() -> None:
    a = _ask("urge_shipping", PAID)
    assert "11月12日 15:00" in a.text
    assert a.handoff is None
    late = _ask("urge_shipping", PAID, now=T0 + 60 * H)
    assert late.handoff == answers.Handoff("high", "ship_deadline_passed")


@pytest.mark.parametrize(
    ("intent", "order", "handoff"),
    [
        ("address_change", UNPAID, ("high", "address_change_before_shipping")),
        ("address_change", PAID, ("high", "address_change_before_shipping")),
        ("address_change", SHIPPED, ("normal", "address_change_after_shipping")),
        ("address_change", SIGNED, None),
        ("order_modify", PAID, ("high", "order_modify_before_shipping")),
        ("order_modify", SHIPPED, None),
        ("cancel_order", UNPAID, None),
        ("cancel_order", PAID, ("high", "cancel_before_shipping")),
        ("cancel_order", SHIPPED, ("normal", "cancel_after_shipping")),
        ("cancel_order", SIGNED, None),
        ("cancel_order", CLOSED, None),
        ("payment_issue", UNPAID, ("high", "payment_issue_unpaid")),
        ("payment_issue", PAID, None),
    ],
)
def test_questions_needing_a_person_are_handed_off(intent, order, handoff) -> None:
    a = _ask(intent, order)
    if handoff is None:
        assert a.handoff is None
        assert a.kind == "auto_answer"
    else:
        assert a.handoff == answers.Handoff(*handoff)
        assert a.kind == "handoff_notice"


def test_no_known_order_asks_which_one_listing_recent_orders() -> None:
    o2 = _order("WAIT_SELLER_SEND_GOODS", order_id="o2", paid_at=T0 + H)
    recent = [PAID, o2]
    assert answers.pick_order(None, None, recent) is None
    a = answers.answer("logistics_status", None, recent, T0, SHIP, SHANGHAI)
    assert a.kind == "clarify"
    assert "订单o1" in a.text
    assert "订单o2" in a.text
    none = answers.answer("logistics_status", None, [], T0, SHIP, SHANGHAI)
    assert none.kind == "clarify"
    assert "订单号" in none.text


def test_pick_order_prefers_the_named_then_the_only_open_one() -> None:
    assert answers.pick_order("o1", CLOSED, [PAID]) is CLOSED
    assert answers.pick_order(None, None, [PAID, CLOSED]) is PAID
    assert answers.pick_order(None, None, [CLOSED]) is CLOSED
    assert answers.pick_order("o-unknown", None, [PAID]) is None  # not guessed


def test_reminder_text_names_item_and_close_time_and_uses_shop_templates() -> None:
    text = texts.reminder(UNPAID, None, SHANGHAI)
    assert "纯棉白色T恤" in text
    assert "11月11日 14:00" in text
    custom = texts.reminder(UNPAID, "{item}快没货啦，{close_time}关单", SHANGHAI)
    assert custom == "纯棉白色T恤快没货啦，11月11日 14:00关单"
