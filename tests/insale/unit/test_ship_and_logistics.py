"""Ship-by watch, shipped notification and logistics stalls."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.insale.domain import logistics, ship_watch
from services.insale.domain.logistics import StallPolicy
from services.insale.domain.orders import apply_order_event, apply_tracking_event
from services.insale.domain.ship_watch import ShipPolicy
from tests.insale.factories import T0, order_event, tracking_event

H = timedelta(hours=1)
SHIP = ShipPolicy(ship_within=48 * H, risk_lead=6 * H)
STALL = StallPolicy(stall_after=72 * H)


def _paid(**kw):
    e = order_event("o1", "WAIT_SELLER_SEND_GOODS", T0 + H, created_at=T0, paid_at=T0 + H, **kw)
    return apply_order_event(None, e)


def _shipped(**kw):
    e = order_event("o1", "WAIT_BUYER_CONFIRM_GOODS", T0 + 5 * H, created_at=T0, paid_at=T0 + H,
                    consign_time=T0 + 5 * H, logistics_company="中通快递",
                    tracking_no="ZT123456789012", **kw)  # fmt: skip
    return apply_order_event(None, e)


def test_ship_by_defaults_to_paid_plus_48h_unless_promised() -> None:
    assert ship_watch.ship_by(_paid(), SHIP) == T0 + 49 * H
    assert ship_watch.ship_by(_paid(promised_ship_by=T0 + 24 * H), SHIP) == T0 + 24 * H
    unpaid = apply_order_event(None, order_event("o1", "WAIT_BUYER_PAY", T0))
    assert ship_watch.ship_by(unpaid, SHIP) is None
    assert not ship_watch.watched(unpaid)


def test_at_risk_only_before_the_promise_and_once() -> None:
    order = _paid()
    assert ship_watch.watched(order)
    assert ship_watch.risk_due(T0 + 49 * H, SHIP) == T0 + 43 * H
    assert not ship_watch.at_risk_now(order, T0 + 42 * H, SHIP)
    assert ship_watch.at_risk_now(order, T0 + 43 * H, SHIP)
    assert not ship_watch.at_risk_now(order, T0 + 49 * H, SHIP)  # that is "missed" now
    assert not ship_watch.at_risk_now(replace(order, ship_risk_alerted=True), T0 + 44 * H, SHIP)


def test_missed_after_the_promise_unless_shipped_or_closed() -> None:
    order = _paid()
    assert not ship_watch.missed_now(order, T0 + 49 * H - timedelta(seconds=1), SHIP)
    assert ship_watch.missed_now(order, T0 + 49 * H, SHIP)
    assert not ship_watch.missed_now(replace(order, ship_missed_alerted=True), T0 + 50 * H, SHIP)
    assert not ship_watch.missed_now(_shipped(), T0 + 60 * H, SHIP)
    closed = apply_order_event(order, order_event("o1", "TRADE_CLOSED", T0 + 2 * H, created_at=T0))
    assert not ship_watch.missed_now(closed, T0 + 60 * H, SHIP)


def test_watch_key_changes_with_the_promise() -> None:
    a = ship_watch.watch_key(_paid(), T0 + 49 * H)
    b = ship_watch.watch_key(_paid(), T0 + 24 * H)
    assert a != b
    assert a.startswith("o1@")


def test_shipped_notification_needs_courier_and_number_and_comes_once() -> None:
    order = _shipped()
    assert logistics.should_notify_shipped(order)
    assert not logistics.should_notify_shipped(replace(order, shipped_notified=True))
    assert not logistics.should_notify_shipped(replace(order, tracking_no=None))
    signed = apply_tracking_event(order, tracking_event("o1", "SIGNED", T0 + 30 * H), "签收").order
    assert not logistics.should_notify_shipped(signed)
    assert not logistics.should_notify_shipped(_paid())


def test_stall_after_silence_since_last_movement() -> None:
    order = _shipped()
    assert logistics.stall_watched(order)
    assert logistics.stall_due(order, STALL) == T0 + 77 * H
    moved = apply_tracking_event(
        order, tracking_event("o1", "IN_TRANSIT", T0 + 20 * H), "在途"
    ).order
    assert logistics.stall_due(moved, STALL) == T0 + 92 * H
    assert not logistics.silent_too_long(moved, T0 + 91 * H, STALL)
    assert logistics.silent_too_long(moved, T0 + 92 * H, STALL)
    assert logistics.stall_key(moved) == "o1#1"
    stalled = replace(moved, stalled=True, stalls_reported=1)
    assert not logistics.stall_watched(stalled)
    assert logistics.stall_key(stalled) == "o1#2"


def test_a_newer_normal_event_ends_a_stall_an_older_one_does_not() -> None:
    stalled = replace(_shipped(), stalled=True, stalls_reported=1)
    assert logistics.stall_ends(stalled, True, "IN_TRANSIT")
    assert not logistics.stall_ends(stalled, False, "IN_TRANSIT")
    assert not logistics.stall_ends(stalled, True, "EXCEPTION")


def test_no_stall_watch_once_delivered_or_closed() -> None:
    signed = apply_tracking_event(_shipped(), tracking_event("o1", "SIGNED", T0 + 30 * H), "签收")
    assert not logistics.stall_watched(signed.order)
    closed = apply_order_event(_shipped(), order_event("o1", "TRADE_CLOSED", T0 + 9 * H,
                                                       created_at=T0))  # fmt: skip
    assert not logistics.stall_watched(closed)
