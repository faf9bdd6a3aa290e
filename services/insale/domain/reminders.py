"""催付: remind a buyer who has not paid, usefully and politely.

- the first reminder is due `after` the order was created, later ones `every` after the last;
- at most `max_reminders` per order;
- never in quiet hours: a reminder due then is deferred to their end;
- only while useful: the order is still unpaid and at least `min_lead` is left before the
  platform closes it (`timeout_action_time`); a deferred reminder that would come too late
  is dropped;
- never for a shop that opted out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.insale.domain.orders import Order
from services.insale.domain.quiet_hours import QuietHours


@dataclass(frozen=True)
class ReminderPolicy:
    after: timedelta
    max_reminders: int
    every: timedelta
    min_lead: timedelta
    quiet: QuietHours
    opted_out: frozenset[str] = frozenset()

    def enabled_for(self, shop_id: str) -> bool:
        return self.max_reminders > 0 and shop_id not in self.opted_out


@dataclass(frozen=True)
class Send:
    number: int  # 1 for the first reminder


@dataclass(frozen=True)
class Defer:
    until: datetime


@dataclass(frozen=True)
class Drop:
    reason: str


Decision = Send | Defer | Drop


def useful_at(order: Order, at: datetime, policy: ReminderPolicy) -> bool:
    return order.pay_deadline is None or at <= order.pay_deadline - policy.min_lead


def planned_at(
    order: Order, policy: ReminderPolicy, last_sent: datetime | None = None
) -> datetime | None:
    """When the next reminder should go out, or None when no (more) reminder is useful."""
    if not order.unpaid or not order.known or not policy.enabled_for(order.shop_id):
        return None
    if order.reminders_sent >= policy.max_reminders:
        return None
    if order.reminders_sent == 0:
        assert order.created_at is not None
        due = order.created_at + policy.after
    else:
        if last_sent is None:
            return None
        due = last_sent + policy.every
    due = policy.quiet.next_allowed(due)
    return due if useful_at(order, due, policy) else None


def decide(order: Order, now: datetime, policy: ReminderPolicy) -> Decision:
    """What to do when a reminder timer fires at `now` (it may fire late)."""
    if not order.unpaid:
        return Drop("no longer waiting for payment")
    if not policy.enabled_for(order.shop_id):
        return Drop("shop opted out")
    if order.reminders_sent >= policy.max_reminders:
        return Drop("reminder limit reached")
    if policy.quiet.contains(now):
        morning = policy.quiet.next_allowed(now)
        if useful_at(order, morning, policy):
            return Defer(morning)
        return Drop("the order closes before quiet hours end")
    if not useful_at(order, now, policy):
        return Drop("too close to the order's automatic close")
    return Send(order.reminders_sent + 1)
