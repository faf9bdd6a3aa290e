"""The projection: idempotent, and never moved backwards by late or reordered events."""

from __future__ import annotations

import itertools
from datetime import timedelta

from services.insale.domain.orders import apply_order_event, apply_tracking_event
from tests.insale.factories import T0, order_event, tracking_event

H = timedelta(hours=1)


def _life(order_id: str = "o1"):
    return [
        order_event(order_id, "WAIT_BUYER_PAY", T0, timeout_action_time=T0 + 24 * H),
        order_event(order_id, "WAIT_SELLER_SEND_GOODS", T0 + H, created_at=T0, paid_at=T0 + H,
                    timeout_action_time=T0 + 240 * H),
        order_event(order_id, "WAIT_BUYER_CONFIRM_GOODS", T0 + 5 * H, created_at=T0,
                    paid_at=T0 + H, consign_time=T0 + 5 * H, logistics_company="中通快递",
                    tracking_no="ZT123456789012"),
        order_event(order_id, "TRADE_BUYER_SIGNED", T0 + 50 * H, created_at=T0, paid_at=T0 + H,
                    consign_time=T0 + 5 * H, signed_at=T0 + 50 * H),
    ]  # fmt: skip


def _fold(events):
    order = None
    for e in events:
        order = apply_order_event(order, e)
    return order


def test_every_delivery_order_gives_the_same_projection() -> None:
    events = _life()
    expected = _fold(events)
    assert expected.status == "TRADE_BUYER_SIGNED"
    for perm in itertools.permutations(events):
        assert _fold(perm) == expected


def test_duplicates_change_nothing() -> None:
    events = _life()
    assert _fold(events + events[::-1]) == _fold(events)


def test_a_late_unpaid_event_does_not_unpay_an_order() -> None:
    order = _fold([_life()[1], _life()[0]])
    assert order.status == "WAIT_SELLER_SEND_GOODS"
    assert order.paid
    assert not order.unpaid
    assert order.pay_deadline == T0 + 24 * H  # still learnt from the unpaid event
    assert order.created_at == T0


def test_closing_is_final_and_time_breaks_ties_between_final_states() -> None:
    closed = order_event("o1", "TRADE_CLOSED", T0 + 2 * H, created_at=T0)
    late_paid = order_event("o1", "WAIT_SELLER_SEND_GOODS", T0 + H, created_at=T0, paid_at=T0 + H)
    assert _fold([closed, late_paid]).status == "TRADE_CLOSED"
    finished = order_event("o1", "TRADE_FINISHED", T0 + 3 * H, created_at=T0)
    assert _fold([finished, closed]).status == "TRADE_FINISHED"


def test_tracking_only_moves_forward_and_fills_courier() -> None:
    first = apply_tracking_event(None, tracking_event("o1", "IN_TRANSIT", T0 + 10 * H), "在途")
    assert first.newest
    assert first.order.tracking_no == "SF7700112233"
    assert not first.order.known
    assert first.order.shipped
    older = apply_tracking_event(first.order, tracking_event("o1", "EXCEPTION", T0 + 9 * H), "x")
    assert not older.newest
    assert not older.exception
    assert older.order.last_tracking_status == "IN_TRANSIT"
    newer = apply_tracking_event(older.order, tracking_event("o1", "EXCEPTION", T0 + 11 * H), "y")
    assert newer.newest
    assert newer.exception
    assert newer.order.last_tracking_text == "y"


def test_states() -> None:
    life = _life()
    unpaid = _fold(life[:1])
    assert unpaid.unpaid
    assert not unpaid.paid
    assert not unpaid.shipped
    paid = _fold(life[:2])
    assert paid.awaiting_shipment
    assert not paid.shipped
    shipped = _fold(life[:3])
    assert shipped.shipped
    assert shipped.in_transit
    assert not shipped.awaiting_shipment
    signed = _fold(life)
    assert signed.delivered
    assert signed.finished
    assert not signed.in_transit
    closed = apply_order_event(paid, order_event("o1", "TRADE_CLOSED", T0 + 2 * H, created_at=T0))
    assert closed.closed
    assert not closed.awaiting_shipment
    assert not closed.in_transit
