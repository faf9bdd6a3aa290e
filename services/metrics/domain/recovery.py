"""催付 recovery: what the payment reminders brought back (docs/kpis.md "Reminder recovery").

An order is *reminded* in the window that holds its first reminder (so each order counts once,
in one day), and *recovered* when it was paid after a reminder and within `window` of the
latest reminder sent before the payment. The recovered amount is the order's `total_fee`.
`recovery_totals` is the plain-Python reference of what `store/recovery.py` adds up in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.metrics.domain.stats import ratio

RECOVERY_FIELDS = (
    "reminders_sent",
    "reminded_orders",
    "recovered_orders",
    "recovered_fen",
    "recovery_rate",
)


@dataclass(frozen=True)
class Reminder:
    order_id: str
    sent_at: datetime


@dataclass(frozen=True)
class PaidOrder:
    paid_at: datetime | None
    total_fee: int


@dataclass
class RecoveryTotals:
    reminders_sent: int = 0
    reminded_orders: int = 0
    recovered_orders: int = 0
    recovered_fen: int = 0

    def add(self, other: RecoveryTotals) -> None:
        self.reminders_sent += other.reminders_sent
        self.reminded_orders += other.reminded_orders
        self.recovered_orders += other.recovered_orders
        self.recovered_fen += other.recovered_fen


def is_recovered(sent: Iterable[datetime], paid_at: datetime | None, window: timedelta) -> bool:
    """Paid after a reminder, at most `window` after the latest reminder before the payment."""
    if paid_at is None:
        return False
    before = [at for at in sent if at < paid_at]
    return bool(before) and paid_at - max(before) <= window


def recovery_kpis(t: RecoveryTotals) -> dict[str, Any]:
    return {
        "reminders_sent": t.reminders_sent,
        "reminded_orders": t.reminded_orders,
        "recovered_orders": t.recovered_orders,
        "recovered_fen": t.recovered_fen,
        "recovery_rate": ratio(t.recovered_orders, t.reminded_orders),
    }


def recovery_totals(
    reminders: Iterable[Reminder],
    orders: Mapping[str, PaidOrder],
    start: datetime,
    end: datetime,
    window: timedelta,
) -> RecoveryTotals:
    """The totals of one shop's window [start, end), from all of its reminders and orders."""
    sent: dict[str, list[datetime]] = defaultdict(list)
    out = RecoveryTotals()
    for r in reminders:
        sent[r.order_id].append(r.sent_at)
        out.reminders_sent += start <= r.sent_at < end
    for order_id, times in sent.items():
        if not start <= min(times) < end:
            continue
        out.reminded_orders += 1
        order = orders.get(order_id)
        if order is not None and is_recovered(times, order.paid_at, window):
            out.recovered_orders += 1
            out.recovered_fen += order.total_fee
    return out
