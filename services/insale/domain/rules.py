"""Every rule's thresholds in one value, as the decisions read them (built by `rules_from_settings`
outside the domain, so nothing here reads the environment or a file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from services.insale.domain.logistics import StallPolicy
from services.insale.domain.reminders import ReminderPolicy
from services.insale.domain.ship_watch import ShipPolicy


@dataclass(frozen=True)
class InsaleRules:
    tz: ZoneInfo
    reminders: ReminderPolicy
    ship: ShipPolicy
    stall: StallPolicy
    recent_limit: int = 3
    templates: dict[str, str] = field(default_factory=dict)
    """Per-shop reminder texts (`{item}`, `{close_time}`)."""
