"""Time rules: the 七天无理由 window, SLA hand-off and alert times, business hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

SELLER_TURN = frozenset({"WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS"})
"""Refund states in which the platform acts on its own at `timeout` if the shop does nothing."""
TERMINAL = frozenset({"SUCCESS", "CLOSED"})


def seven_day_window_end(signed_at: datetime, tz: tzinfo, hours: int = 168) -> datetime:
    """七天无理由 runs `hours` from 00:00 (shop time) of the day after signing."""
    local = signed_at.astimezone(tz)
    next_day = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return next_day + timedelta(hours=hours)


def handoff_due(deadline: datetime, sla_lead: timedelta, now: datetime) -> datetime:
    """When a case a human must decide goes to an agent: SLA_LEAD before the platform acts."""
    return max(now, deadline - sla_lead)


def alert_due(deadline: datetime, alert_lead: timedelta, now: datetime) -> datetime:
    return max(now, deadline - alert_lead)


def is_dispute(cs_status: int) -> bool:
    """Platform customer service stepped in (cs_status ≥ 2)."""
    return cs_status >= 2


def within_business_hours(at: datetime, tz: tzinfo, start: time, end: time) -> bool:
    t = at.astimezone(tz).time()
    return start <= t < end if start < end else (t >= start or t < end)


def next_business_time(at: datetime, tz: tzinfo, start: time, end: time) -> datetime:
    """`at` itself when the shop is open, else the next opening time (shop time)."""
    if within_business_hours(at, tz, start, end):
        return at
    local = at.astimezone(tz)
    opening = datetime.combine(local.date(), start, tzinfo=tz)
    if opening <= local:
        opening += timedelta(days=1)
    return opening
