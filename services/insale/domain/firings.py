"""What each of insale's timers does when it fires at `now` (it may fire late). Pure.

A firing whose key is no longer the order's (a newer reminder, promise or stall superseded
it) does nothing: `None`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.insale.domain import logistics, reminders, ship_watch, texts
from services.insale.domain.follow_up import report_stall
from services.insale.domain.orders import Order
from services.insale.domain.outcomes import UNPAID_REMINDER, Outcome
from services.insale.domain.rules import InsaleRules


def unpaid_reminder(order: Order, key: str, now: datetime, rules: InsaleRules) -> Outcome | None:
    if order.reminder_key != key:
        return None  # superseded
    out = Outcome(order)
    decision = reminders.decide(order, now, rules.reminders)
    if isinstance(decision, reminders.Defer):
        key = f"{order.order_id}#{order.reminders_sent + 1}@{decision.until:%Y%m%dT%H%M}"
        out.arm(UNPAID_REMINDER, key, decision.until)
        out.order = replace(order, reminder_key=key)
    elif isinstance(decision, reminders.Send):
        text = texts.reminder(order, rules.templates.get(order.shop_id), rules.tz)
        out.tell(text, "reminder", f"reminder:{decision.number}")
        out.counters.append("reminder_sent")
        order = replace(order, reminders_sent=decision.number)
        due = reminders.planned_at(order, rules.reminders, last_sent=now)
        if due is not None:
            key = f"{order.order_id}#{decision.number + 1}"
            out.arm(UNPAID_REMINDER, key, due)
            order = replace(order, reminder_key=key)
        out.order = order
    else:
        out.counters.append("reminder_dropped")
    return out


def ship_at_risk(order: Order, key: str, now: datetime, rules: InsaleRules) -> Outcome | None:
    if order.ship_watch_key != key:
        return None
    out = Outcome(order)
    deadline = ship_watch.ship_by(order, rules.ship)
    if deadline is not None and ship_watch.at_risk_now(order, now, rules.ship):
        detail = f"订单{order.order_id}须在{texts.when(deadline, rules.tz)}前发货，至今未发货"
        out.alert("ship_deadline_at_risk", deadline, detail)
        out.order = replace(order, ship_risk_alerted=True)
    return out


def ship_missed(order: Order, key: str, now: datetime, rules: InsaleRules) -> Outcome | None:
    if order.ship_watch_key != key:
        return None
    out = Outcome(order)
    deadline = ship_watch.ship_by(order, rules.ship)
    if deadline is not None and ship_watch.missed_now(order, now, rules.ship):
        detail = f"订单{order.order_id}承诺{texts.when(deadline, rules.tz)}前发货，已超时未发货"
        out.alert("ship_deadline_missed", deadline, detail)
        out.order = replace(order, ship_missed_alerted=True)
    return out


def logistics_stall(order: Order, key: str, now: datetime, rules: InsaleRules) -> Outcome | None:
    if logistics.stall_key(order) != key:
        return None
    out = Outcome(order)
    if logistics.silent_too_long(order, now, rules.stall):
        report_stall(out, exception=False)
    return out
