"""The rules from the environment: `InsaleSettings` → `domain.rules.InsaleRules`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.insale.domain.logistics import StallPolicy
from services.insale.domain.quiet_hours import QuietHours
from services.insale.domain.reminders import ReminderPolicy
from services.insale.domain.rules import InsaleRules
from services.insale.domain.ship_watch import ShipPolicy
from services.insale.settings import InsaleSettings


def rules_from_settings(settings: InsaleSettings) -> InsaleRules:
    tz = ZoneInfo(settings.shop_timezone)
    return InsaleRules(
        tz=tz,
        reminders=ReminderPolicy(
            after=settings.insale_unpaid_reminder_after,
            max_reminders=settings.insale_unpaid_max_reminders,
            every=settings.insale_unpaid_reminder_every,
            min_lead=settings.insale_unpaid_min_lead,
            quiet=QuietHours(settings.insale_quiet_start, settings.insale_quiet_end, tz),
            opted_out=frozenset(settings.insale_reminder_opt_out),
        ),
        ship=ShipPolicy(settings.insale_ship_within, settings.insale_ship_risk_lead),
        stall=StallPolicy(settings.logistics_stall_after),
        recent_limit=settings.insale_recent_orders_listed,
        templates=dict(settings.insale_reminder_templates),
    )
