"""Ship-by watch: a paid order must ship by its promise.

The promise is the order's `promised_ship_by`, else `paid_at + ship_within` (48 h by default).
`ship_deadline_at_risk` is raised `risk_lead` before the promise while the order is still not
shipped, `ship_deadline_missed` once the promise has passed; each at most once per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.insale.domain.orders import Order


@dataclass(frozen=True)
class ShipPolicy:
    ship_within: timedelta
    risk_lead: timedelta


def ship_by(order: Order, policy: ShipPolicy) -> datetime | None:
    if order.promised_ship_by is not None:
        return order.promised_ship_by
    if order.paid_at is not None:
        return order.paid_at + policy.ship_within
    return None


def watch_key(order: Order, deadline: datetime) -> str:
    """Timer key of the watch for one promise: a changed promise gets new timers.

    In UTC, so the same promise read from an event (+08:00) or the database (UTC) is one key.
    """
    return f"{order.order_id}@{deadline.astimezone(UTC).isoformat()}"


def watched(order: Order) -> bool:
    """The watch runs while the order is paid and waits for the shop to ship it."""
    return order.awaiting_shipment


def risk_due(deadline: datetime, policy: ShipPolicy) -> datetime:
    return deadline - policy.risk_lead


def at_risk_now(order: Order, now: datetime, policy: ShipPolicy) -> bool:
    """Raise at-risk at `now`? Not once the promise has passed: that is `missed`."""
    deadline = ship_by(order, policy)
    return (
        watched(order)
        and deadline is not None
        and not order.ship_risk_alerted
        and risk_due(deadline, policy) <= now < deadline
    )


def missed_now(order: Order, now: datetime, policy: ShipPolicy) -> bool:
    deadline = ship_by(order, policy)
    return (
        watched(order)
        and deadline is not None
        and not order.ship_missed_alerted
        and (now >= deadline)
    )
