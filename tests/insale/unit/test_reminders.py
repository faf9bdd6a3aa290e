"""催付 rules: delay, limit, deadline, quiet hours, opt-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from services.insale.domain import reminders
from services.insale.domain.orders import apply_order_event
from services.insale.domain.quiet_hours import QuietHours
from services.insale.domain.reminders import Defer, Drop, ReminderPolicy, Send
from tests.insale.factories import SHANGHAI, T0, order_event

M = timedelta(minutes=1)
H = timedelta(hours=1)
QUIET = QuietHours(time(22), time(8), SHANGHAI)
POLICY = ReminderPolicy(after=30 * M, max_reminders=1, every=4 * H, min_lead=10 * M, quiet=QUIET)


def _unpaid(created: datetime = T0, closes: datetime | None = None, shop: str = "shop-t"):
    e = order_event("o1", "WAIT_BUYER_PAY", created, shop_id=shop,
                    timeout_action_time=closes if closes else created + 24 * H)  # fmt: skip
    return apply_order_event(None, e)


def test_quiet_hours_wrap_midnight() -> None:
    day = datetime(2026, 11, 10, tzinfo=SHANGHAI)
    assert QUIET.contains(day.replace(hour=22))
    assert QUIET.contains(day.replace(hour=3))
    assert not QUIET.contains(day.replace(hour=8))
    assert not QUIET.contains(day.replace(hour=21, minute=59))
    assert QUIET.next_allowed(day.replace(hour=23)) == day.replace(hour=8) + 24 * H
    assert QUIET.next_allowed(day.replace(hour=2)) == day.replace(hour=8)
    assert QUIET.next_allowed(day.replace(hour=12)) == day.replace(hour=12)
    assert not QuietHours(time(0), time(0), SHANGHAI).contains(day)


def test_first_reminder_is_due_after_the_delay() -> None:
    assert reminders.planned_at(_unpaid(), POLICY) == T0 + 30 * M


def test_reminder_due_in_quiet_hours_is_deferred_to_the_morning() -> None:
    late = datetime(2026, 11, 10, 21, 45, tzinfo=SHANGHAI)
    assert reminders.planned_at(_unpaid(late), POLICY) == datetime(2026, 11, 11, 8, tzinfo=SHANGHAI)


def test_deferred_reminder_that_would_come_after_closing_is_not_planned() -> None:
    late = datetime(2026, 11, 10, 21, 45, tzinfo=SHANGHAI)
    assert reminders.planned_at(_unpaid(late, closes=late + 2 * H), POLICY) is None


def test_no_reminder_too_close_to_closing_or_for_opted_out_shops() -> None:
    assert reminders.planned_at(_unpaid(closes=T0 + 35 * M), POLICY) is None
    assert reminders.planned_at(_unpaid(closes=T0 + 40 * M), POLICY) == T0 + 30 * M
    opted = replace(POLICY, opted_out=frozenset({"shop-x"}))
    assert reminders.planned_at(_unpaid(shop="shop-x"), opted) is None
    assert isinstance(reminders.decide(_unpaid(shop="shop-x"), T0 + H, opted), Drop)


def test_decide_when_the_timer_fires() -> None:
    order = _unpaid()
    assert reminders.decide(order, T0 + 30 * M, POLICY) == Send(1)
    assert isinstance(reminders.decide(replace(order, reminders_sent=1), T0 + H, POLICY), Drop)
    paid = apply_order_event(order, order_event("o1", "WAIT_SELLER_SEND_GOODS", T0 + M,
                                                created_at=T0, paid_at=T0 + M))  # fmt: skip
    assert isinstance(reminders.decide(paid, T0 + H, POLICY), Drop)
    night = datetime(2026, 11, 10, 23, tzinfo=SHANGHAI)
    assert reminders.decide(order, night, POLICY) == Defer(
        datetime(2026, 11, 11, 8, tzinfo=SHANGHAI)
    )
    assert isinstance(reminders.decide(order, T0 + 24 * H - 5 * M, POLICY), Drop)


def test_more_reminders_when_allowed() -> None:
    policy = replace(POLICY, max_reminders=2)
    once = replace(_unpaid(), reminders_sent=1)
    assert reminders.planned_at(once, policy, last_sent=T0 + 30 * M) == T0 + 30 * M + 4 * H
    assert reminders.planned_at(replace(once, reminders_sent=2), policy, T0 + H) is None
    assert reminders.planned_at(_unpaid(), replace(POLICY, max_reminders=0)) is None
