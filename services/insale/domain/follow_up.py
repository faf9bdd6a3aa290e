"""What an order or tracking event does: the new projection, then timers and one-time
notifications brought in line with it. Pure.

Effects are decided from the projection, never from the event alone, so late, duplicated or
reordered events cannot produce an effect twice or one that no longer applies; what was done
is recorded in the order (`reminder_key`, `shipped_notified`, `stalls_reported`...).
"""

from __future__ import annotations

from dataclasses import replace

from services.insale.domain import logistics, reminders, ship_watch, texts
from services.insale.domain.orders import Order, apply_order_event, apply_tracking_event
from services.insale.domain.outcomes import (
    LOGISTICS_STALL,
    SHIP_AT_RISK,
    SHIP_MISSED,
    UNPAID_REMINDER,
    Outcome,
)
from services.insale.domain.rules import InsaleRules
from shared.contracts import LogisticsUpdated, OrderChanged


def on_order_changed(before: Order | None, e: OrderChanged, rules: InsaleRules) -> Outcome:
    return follow_up(before, apply_order_event(before, e), rules)


def on_tracking(
    before: Order | None, e: LogisticsUpdated, masked_text: str, rules: InsaleRules
) -> Outcome:
    """A tracking event (its carrier text already masked)."""
    change = apply_tracking_event(before, e, masked_text)
    order, counters = change.order, []
    if logistics.stall_ends(order, change.newest, e.status):
        order = replace(order, stalled=False)
        counters.append("logistics_stall_ended")
    out = follow_up(before, order, rules)
    out.counters[:0] = counters
    return out


def follow_up(before: Order | None, order: Order, rules: InsaleRules) -> Outcome:
    out = Outcome(order)
    if not order.known:
        return out  # only tracking events so far: nothing to say to an unknown buyer
    _plan_reminder(out, before, rules)
    _watch_shipping(out, rules)
    _notify_shipped(out)
    _watch_stall(out, before, rules)
    return out


def _plan_reminder(out: Outcome, before: Order | None, rules: InsaleRules) -> None:
    order = out.order
    if order.unpaid:
        if order.reminder_key is None:
            due = reminders.planned_at(order, rules.reminders)
            if due is not None:
                key = f"{order.order_id}#1"
                out.arm(UNPAID_REMINDER, key, due)
                out.order = replace(order, reminder_key=key)
        return
    if order.reminder_key is not None and before is not None and before.unpaid:
        out.cancel(UNPAID_REMINDER, order.reminder_key)  # paid or closed: moot


def _watch_shipping(out: Outcome, rules: InsaleRules) -> None:
    order = out.order
    deadline = ship_watch.ship_by(order, rules.ship)
    if ship_watch.watched(order) and deadline is not None:
        key = ship_watch.watch_key(order, deadline)
        if order.ship_watch_key == key:
            return
        _cancel_ship_watch(out, order)
        # Re-armed even if once cancelled: the alert flags, not the timers, make them once.
        if not order.ship_risk_alerted:
            out.arm(SHIP_AT_RISK, key, ship_watch.risk_due(deadline, rules.ship), rearm=True)
        if not order.ship_missed_alerted:
            out.arm(SHIP_MISSED, key, deadline, rearm=True)
        out.order = replace(order, ship_watch_key=key)
    elif order.ship_watch_key is not None and not ship_watch.watched(order):
        _cancel_ship_watch(out, order)  # shipped or closed
        out.order = replace(order, ship_watch_key=None)


def _cancel_ship_watch(out: Outcome, order: Order) -> None:
    if order.ship_watch_key is not None:
        out.cancel(SHIP_AT_RISK, order.ship_watch_key)
        out.cancel(SHIP_MISSED, order.ship_watch_key)


def _notify_shipped(out: Outcome) -> None:
    if not logistics.should_notify_shipped(out.order):
        return
    out.tell(texts.shipped(out.order), "notification", "shipped")
    out.counters.append("shipped_notified")
    out.order = replace(out.order, shipped_notified=True)


def _watch_stall(out: Outcome, before: Order | None, rules: InsaleRules) -> None:
    order = out.order
    if order.last_tracking_status == "EXCEPTION" and order.in_transit and not order.stalled:
        report_stall(out, exception=True)
    elif logistics.stall_watched(order):
        due = logistics.stall_due(order, rules.stall)
        assert due is not None
        out.arm(LOGISTICS_STALL, logistics.stall_key(order), due, rearm=True)
    elif before is not None and before.in_transit and not order.in_transit:
        out.cancel(LOGISTICS_STALL, logistics.stall_key(order))  # delivered or closed


def report_stall(out: Outcome, *, exception: bool) -> None:
    """One apology and one alert per stall; the silence timer of this stall is done."""
    order = out.order
    out.cancel(LOGISTICS_STALL, logistics.stall_key(order))
    number = order.stalls_reported + 1
    out.tell(texts.stall_apology(order, exception), "apology", f"stall:{number}")
    cause = "物流异常" if exception else "物流长时间未更新"
    last = order.last_tracking_text or "无"
    detail = (
        f"订单{order.order_id}{cause}（{order.logistics_company} {order.tracking_no}，"
        f"最新：{last}）"
    )
    out.alert("logistics_stalled", None, detail, number)
    out.counters.append("logistics_stalled")
    out.order = replace(order, stalls_reported=number, stalled=True)
