"""What a decision produces besides new state: events to emit, durable timers to arm or cancel,
business counters. Pure (no storage or broker), so a service's `domain/` may build them; the
batch pattern (`shared/batch.py`) writes them when the batch is saved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.contracts import EventPayload


@dataclass(frozen=True)
class Emit:
    payload: EventPayload
    subject: str | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class TimerArm:
    """Arm (`replace`: re-arm) a durable timer; `due_at is None` cancels it."""

    kind: str
    key: str
    due_at: datetime | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    replace: bool = False


@dataclass
class Effects:
    """What deciding one record produced besides new state: all written at save."""

    events: list[Emit] = field(default_factory=list)
    timers: list[TimerArm] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)

    def emit(
        self, payload: EventPayload, *, subject: str | None = None, event_id: str | None = None
    ) -> None:
        self.events.append(Emit(payload, subject, event_id))

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
        """A business counter, incremented once the batch has committed."""
        self.counters.append(kind)


__all__ = ["Effects", "Emit", "TimerArm"]
