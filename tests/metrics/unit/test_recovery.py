"""催付 recovery's definition (docs/kpis.md "Reminder recovery")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.metrics.domain.recovery import (
    PaidOrder,
    Reminder,
    is_recovered,
    recovery_kpis,
    recovery_totals,
)

T = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)
W = timedelta(hours=24)


def test_paid_after_a_reminder_within_the_window_of_the_latest_one() -> None:
    assert is_recovered([T], T + H, W)
    assert is_recovered([T], T + W, W)  # inclusive
    assert not is_recovered([T], T + W + timedelta(microseconds=1), W)
    assert not is_recovered([T], T, W)  # paid at the reminder's instant: not after it
    assert not is_recovered([T + H], T, W)  # paid before the reminder
    assert not is_recovered([T], None, W)
    assert is_recovered([T, T + 30 * H], T + 40 * H, W)  # the latest reminder before payment


def test_orders_count_in_the_window_of_their_first_reminder() -> None:
    reminders = [Reminder("a", T), Reminder("a", T + 30 * H), Reminder("b", T + 25 * H)]
    orders = {"a": PaidOrder(T + 31 * H, 500), "b": PaidOrder(None, 900)}
    day1 = recovery_totals(reminders, orders, T - H, T + 23 * H, W)
    day2 = recovery_totals(reminders, orders, T + 23 * H, T + 47 * H, W)
    assert recovery_kpis(day1) == {"reminders_sent": 1, "reminded_orders": 1,
        "recovered_orders": 1, "recovered_fen": 500, "recovery_rate": 1.0}  # fmt: skip
    assert recovery_kpis(day2) == {"reminders_sent": 2, "reminded_orders": 1,
        "recovered_orders": 0, "recovered_fen": 0, "recovery_rate": 0.0}  # fmt: skip
