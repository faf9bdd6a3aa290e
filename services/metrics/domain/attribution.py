"""Last-touch attribution of orders and CSAT ratings to responders (KPIS.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from services.metrics.domain.model import Touch


def last_touch_before(touches: Iterable[Touch], at: datetime) -> Touch | None:
    """The latest agent/bot message of a session sent strictly before `at`."""
    best: Touch | None = None
    for t in touches:
        if t.at < at and (best is None or t.order_key() > best.order_key()):
            best = t
    return best


def attribute_order(
    touches: Iterable[Touch], created_at: datetime, window: timedelta
) -> Touch | None:
    """The touch an order belongs to: the last one before it, if at most `window` earlier."""
    touch = last_touch_before(touches, created_at)
    if touch is None or created_at - touch.at > window:
        return None
    return touch
