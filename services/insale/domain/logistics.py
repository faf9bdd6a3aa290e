"""Shipped notification and logistics stalls.

- Shipped: once an order has shipped and its courier and tracking number are known, the buyer
  is told both, once, unless the parcel has already been delivered or the order closed.
- Stall: a parcel on its way with no tracking event for `stall_after` (72 h by default), or
  whose latest tracking event is an EXCEPTION, is stalled. Each stall gets one apology to the
  buyer and one `logistics_stalled` alert. A newer, normal tracking event ends the stall; a
  later silence or exception is a new stall.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.insale.domain.orders import Order


@dataclass(frozen=True)
class StallPolicy:
    stall_after: timedelta


def should_notify_shipped(order: Order) -> bool:
    return (
        order.known
        and order.shipped
        and not order.shipped_notified
        and not order.delivered
        and not order.closed
        and bool(order.logistics_company)
        and bool(order.tracking_no)
    )


def last_movement(order: Order) -> datetime | None:
    """The last sign of life of the parcel: the latest tracking event, else shipping itself."""
    times = [t for t in (order.consign_time, order.last_tracking_at) if t is not None]
    return max(times) if times else None


def stall_watched(order: Order) -> bool:
    """A silence timer runs while the parcel is on its way and not already reported stalled."""
    return (
        order.known and order.in_transit and not order.stalled and last_movement(order) is not None
    )


def stall_key(order: Order) -> str:
    """One timer per stall: the n-th stall of an order has its own key."""
    return f"{order.order_id}#{order.stalls_reported + 1}"


def stall_due(order: Order, policy: StallPolicy) -> datetime | None:
    moved = last_movement(order)
    return moved + policy.stall_after if moved is not None else None


def silent_too_long(order: Order, now: datetime, policy: StallPolicy) -> bool:
    due = stall_due(order, policy)
    return stall_watched(order) and due is not None and now >= due


def stall_ends(order: Order, newest_event: bool, status: str) -> bool:
    """A newer, normal tracking event shows the parcel moves again."""
    return order.stalled and newest_event and status != "EXCEPTION"
