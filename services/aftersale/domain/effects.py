"""What a decision produces besides new state: events, timer changes, business counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from services.aftersale.domain.book import View
from services.aftersale.domain.rules import RuleBook
from shared.contracts import EventPayload
from shared.effects import TimerArm

REFUND_SLA = "refund_sla"
REFUND_ALERT = "refund_alert"
REFUND_DECIDE = "refund_decide"
REVIEW_APOLOGY = "review_apology"


@dataclass
class Out:
    events: list[EventPayload] = field(default_factory=list)
    timers: list[TimerArm] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)

    def emit(self, payload: EventPayload) -> None:
        self.events.append(payload)

    def arm(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        payload: Mapping[str, Any] | None = None,
        *,
        replace: bool = False,
    ) -> None:
        self.timers.append(TimerArm(kind, key, due_at, dict(payload or {}), replace))

    def cancel(self, kind: str, key: str) -> None:
        self.timers.append(TimerArm(kind, key, None))

    def count(self, kind: str) -> None:
        self.counters.append(kind)


@dataclass(frozen=True)
class Config:
    """The service's settings the rules need (no settings object in the domain)."""

    rules: RuleBook
    tz: tzinfo
    sla_lead: timedelta = timedelta(hours=12)
    sla_margin: timedelta = timedelta(minutes=5)
    alert_lead: timedelta = timedelta(hours=2)
    order_facts_grace: timedelta = timedelta(minutes=2)
    business_hours_start: time = time(9, 0)
    business_hours_end: time = time(23, 0)


@dataclass
class Turn:
    """One decision in the making: the view it reads and writes, its effects, the time."""

    v: View
    out: Out
    cfg: Config
    now: datetime
