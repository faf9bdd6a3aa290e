"""The pure decisions insale's batch and timer handlers carry out: what an order or tracking
event, a timer firing and a buyer's question decide, as plain outcomes."""

from __future__ import annotations

from datetime import UTC, time, timedelta

from services.insale.domain import firings
from services.insale.domain.follow_up import on_order_changed, on_tracking
from services.insale.domain.logistics import StallPolicy
from services.insale.domain.orders import apply_order_event
from services.insale.domain.outcomes import (
    LOGISTICS_STALL,
    SHIP_AT_RISK,
    SHIP_MISSED,
    UNPAID_REMINDER,
    ArmTimer,
    CancelTimer,
    RaiseAlert,
    TellBuyer,
)
from services.insale.domain.questions import Question, named_order, on_question, recent_orders
from services.insale.domain.quiet_hours import QuietHours
from services.insale.domain.reminders import ReminderPolicy
from services.insale.domain.rules import InsaleRules
from services.insale.domain.ship_watch import ShipPolicy
from shared.conversations import BuyerConversation, remember
from tests.insale.factories import SHANGHAI, T0, order_event, tracking_event

M, H = timedelta(minutes=1), timedelta(hours=1)
RULES = InsaleRules(
    tz=SHANGHAI,
    reminders=ReminderPolicy(
        after=30 * M,
        max_reminders=2,
        every=4 * H,
        min_lead=10 * M,
        quiet=QuietHours(time(22), time(8), SHANGHAI),
    ),
    ship=ShipPolicy(ship_within=48 * H, risk_lead=6 * H),
    stall=StallPolicy(stall_after=72 * H),
    templates={"shop-x": "{item}，{close_time}关单"},
)


def _unpaid(order_id: str = "o1", **kw):  # type: ignore[no-untyped-def]
    return on_order_changed(None, order_event(order_id, "WAIT_BUYER_PAY", T0, **kw), RULES)


def test_a_new_unpaid_order_arms_its_first_reminder_once() -> None:
    out = _unpaid()
    assert out.actions == [ArmTimer(UNPAID_REMINDER, "o1#1", T0 + 30 * M)]
    assert out.order.reminder_key == "o1#1"
    again = on_order_changed(out.order, order_event("o1", "WAIT_BUYER_PAY", T0), RULES)
    assert again.actions == []
    assert again.order == out.order


def test_payment_cancels_the_reminder_and_starts_the_ship_watch() -> None:
    before = _unpaid().order
    e = order_event("o1", "WAIT_SELLER_SEND_GOODS", T0 + H, paid_at=T0 + H)
    out = on_order_changed(before, e, RULES)
    deadline = T0 + 49 * H
    assert out.actions[0] == CancelTimer(UNPAID_REMINDER, "o1#1")
    armed = [a for a in out.actions if isinstance(a, ArmTimer)]
    assert [(a.kind, a.due_at, a.rearm) for a in armed] == [
        (SHIP_AT_RISK, deadline - 6 * H, True), (SHIP_MISSED, deadline, True)]  # fmt: skip
    assert out.order.ship_watch_key == armed[0].key == armed[1].key
    assert out.order.ship_watch_key == f"o1@{deadline.astimezone(UTC).isoformat()}"


def test_shipping_tells_the_buyer_once_and_watches_for_a_stall() -> None:
    paid = on_order_changed(
        None, order_event("o1", "WAIT_SELLER_SEND_GOODS", T0, paid_at=T0), RULES
    ).order
    shipped = order_event("o1", "WAIT_BUYER_CONFIRM_GOODS", T0 + H, paid_at=T0,
                          consign_time=T0 + H, logistics_company="中通快递",
                          tracking_no="ZT1")  # fmt: skip
    out = on_order_changed(paid, shipped, RULES)
    kinds = [type(a).__name__ for a in out.actions]
    assert kinds == ["CancelTimer", "CancelTimer", "TellBuyer", "ArmTimer"]
    tell = out.actions[2]
    assert isinstance(tell, TellBuyer)
    assert tell.kind == "notification"
    assert "ZT1" in tell.text
    assert out.actions[3] == ArmTimer(LOGISTICS_STALL, "o1#1", T0 + 73 * H, rearm=True)
    assert out.counters == ["shipped_notified"]
    again = on_order_changed(out.order, shipped, RULES)
    assert not any(isinstance(a, TellBuyer) for a in again.actions)


def test_an_exception_is_one_stall_and_a_newer_normal_event_ends_it() -> None:
    shipped = on_order_changed(
        None, order_event("o1", "WAIT_BUYER_CONFIRM_GOODS", T0, paid_at=T0, consign_time=T0,
                          logistics_company="中通快递", tracking_no="ZT1"), RULES,
    ).order  # fmt: skip
    out = on_tracking(shipped, tracking_event("o1", "EXCEPTION", T0 + H), "破损", RULES)
    assert [type(a) for a in out.actions] == [CancelTimer, TellBuyer, RaiseAlert]
    alert = out.actions[2]
    assert isinstance(alert, RaiseAlert)
    assert alert.kind == "logistics_stalled"
    assert alert.number == 1
    assert out.order.stalled
    assert out.counters == ["alert_logistics_stalled", "logistics_stalled"]
    moving = on_tracking(out.order, tracking_event("o1", "IN_TRANSIT", T0 + 2 * H), "到达", RULES)
    assert moving.counters[0] == "logistics_stall_ended"
    assert not moving.order.stalled
    assert moving.actions == [ArmTimer(LOGISTICS_STALL, "o1#2", T0 + 74 * H, rearm=True)]


def test_tracking_alone_says_nothing_to_an_unknown_buyer() -> None:
    out = on_tracking(None, tracking_event("o1", "EXCEPTION", T0), "x", RULES)
    assert out.actions == []
    assert out.order.last_tracking_status == "EXCEPTION"


def test_a_reminder_firing_sends_then_arms_the_next_and_ignores_stale_keys() -> None:
    order = _unpaid(shop_id="shop-x").order
    assert firings.unpaid_reminder(order, "o1#0", T0 + 30 * M, RULES) is None  # superseded
    out = firings.unpaid_reminder(order, "o1#1", T0 + 30 * M, RULES)
    assert out is not None
    tell, arm = out.actions
    assert isinstance(tell, TellBuyer)
    assert tell.effect == "reminder:1"
    assert tell.text.endswith("关单")  # the shop's template
    assert arm == ArmTimer(UNPAID_REMINDER, "o1#2", T0 + 30 * M + 4 * H)
    assert out.order.reminders_sent == 1
    assert out.order.reminder_key == "o1#2"
    assert out.counters == ["reminder_sent"]


def test_a_reminder_due_in_quiet_hours_is_deferred_to_their_end() -> None:
    order = _unpaid().order
    night = T0.replace(hour=23)
    out = firings.unpaid_reminder(order, "o1#1", night, RULES)
    assert out is not None
    morning = T0.replace(hour=8) + 24 * H
    assert out.actions == [ArmTimer(UNPAID_REMINDER, "o1#1@20261111T0800", morning)]
    assert out.order.reminder_key == "o1#1@20261111T0800"


def test_ship_watch_firings_alert_once() -> None:
    paid = on_order_changed(
        None, order_event("o1", "WAIT_SELLER_SEND_GOODS", T0, paid_at=T0), RULES
    ).order
    key = paid.ship_watch_key
    assert key is not None
    risk = firings.ship_at_risk(paid, key, T0 + 42 * H, RULES)
    assert risk is not None
    assert [type(a) for a in risk.actions] == [RaiseAlert]
    assert risk.order.ship_risk_alerted
    later = firings.ship_at_risk(risk.order, key, T0 + 43 * H, RULES)
    assert later is not None
    assert later.actions == []  # alerted once
    missed = firings.ship_missed(risk.order, key, T0 + 48 * H, RULES)
    assert missed is not None
    assert missed.counters == ["alert_ship_deadline_missed"]
    assert firings.ship_missed(paid, "o1@other", T0 + 48 * H, RULES) is None


def test_recent_orders_put_this_batchs_versions_in_place_of_the_stored_ones() -> None:
    q = Question("shop-t", "buyer-t", "logistics_status", None, "在哪")
    old = apply_order_event(None, order_event("o1", "WAIT_BUYER_PAY", T0 - 2 * H))
    older = apply_order_event(None, order_event("o0", "WAIT_BUYER_PAY", T0 - 3 * H))
    paid = apply_order_event(old, order_event("o1", "WAIT_SELLER_SEND_GOODS", T0, paid_at=T0))
    new = apply_order_event(None, order_event("o2", "WAIT_BUYER_PAY", T0 - H))
    other = apply_order_event(None, order_event("o3", "WAIT_BUYER_PAY", T0, buyer_id="x"))
    got = recent_orders([old, older], [paid, new, other], q, limit=2)
    assert [(o.order_id, o.status) for o in got] == [
        ("o2", "WAIT_BUYER_PAY"), ("o1", "WAIT_SELLER_SEND_GOODS")]  # fmt: skip


def test_a_named_order_of_another_buyer_is_not_revealed() -> None:
    q = Question("shop-t", "buyer-t", "logistics_status", "o9", "在哪")
    theirs = apply_order_event(None, order_event("o9", "WAIT_BUYER_PAY", T0, buyer_id="other"))
    assert named_order(q, theirs) is None
    answered = on_question(q, None, [], T0, RULES)
    assert answered.answer.kind == "clarify"
    assert answered.summary is None


def test_a_question_needing_a_person_gets_a_summary_for_the_agent() -> None:
    paid = apply_order_event(None, order_event("o1", "WAIT_SELLER_SEND_GOODS", T0, paid_at=T0))
    q = Question("shop-t", "buyer-t", "address_change", None, "改地址到***")
    answered = on_question(q, None, [paid], T0, RULES)
    assert answered.answer.handoff is not None
    assert answered.answer.handoff.priority == "high"
    assert answered.summary == "[address_change] 订单o1（待发货）：改地址到***"


def test_the_latest_conversation_is_kept() -> None:
    a = BuyerConversation("s", "b", "c1", T0)
    b = BuyerConversation("s", "b", "c2", T0 + M)
    assert remember(None, a) == a
    assert remember(a, b) == b
    assert remember(b, a) is None  # an older message does not move it back
