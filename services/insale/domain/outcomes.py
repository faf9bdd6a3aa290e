"""What a decision asks for besides a new order: words to the buyer, alerts, timers.

Plain values: the handlers turn them into emitted events (with ids, conversation and time)
and durable timers. Each names the effect it is, so a re-run produces the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from services.insale.domain.orders import Order

UNPAID_REMINDER = "unpaid_reminder"
SHIP_AT_RISK = "ship_at_risk"
SHIP_MISSED = "ship_missed"
LOGISTICS_STALL = "logistics_stall"

SystemKind = Literal["reminder", "notification", "apology"]
AlertKind = Literal["ship_deadline_at_risk", "ship_deadline_missed", "logistics_stalled"]


@dataclass(frozen=True)
class TellBuyer:
    """A system message to the order's buyer; `effect` names it (e.g. `reminder:1`)."""

    text: str
    kind: SystemKind
    effect: str


@dataclass(frozen=True)
class RaiseAlert:
    kind: AlertKind
    due_at: datetime | None
    detail: str
    number: int = 1


@dataclass(frozen=True)
class ArmTimer:
    """Arm a timer for the order; `rearm` moves one that exists (even fired or cancelled)."""

    kind: str
    key: str
    due_at: datetime
    rearm: bool = False


@dataclass(frozen=True)
class CancelTimer:
    kind: str
    key: str


Action = TellBuyer | RaiseAlert | ArmTimer | CancelTimer


@dataclass
class Outcome:
    """The order after a decision, and what is to happen, in order."""

    order: Order
    actions: list[Action] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)
    """Business counters (`xiaoer_business_events_total{kind}`)."""

    def tell(self, text: str, kind: SystemKind, effect: str) -> None:
        self.actions.append(TellBuyer(text, kind, effect))

    def alert(self, kind: AlertKind, due_at: datetime | None, detail: str, number: int = 1) -> None:
        self.actions.append(RaiseAlert(kind, due_at, detail, number))
        self.counters.append(f"alert_{kind}")

    def arm(self, kind: str, key: str, due_at: datetime, *, rearm: bool = False) -> None:
        self.actions.append(ArmTimer(kind, key, due_at, rearm))

    def cancel(self, kind: str, key: str) -> None:
        self.actions.append(CancelTimer(kind, key))
