"""Insale configuration: every rule's threshold, read from the environment."""

from __future__ import annotations

import string
from datetime import time, timedelta

from pydantic import AliasChoices, Field, field_validator

from shared.settings import CommonSettings

TEMPLATE_FIELDS = frozenset({"item", "close_time"})


class InsaleSettings(CommonSettings):
    service_name: str = "xiaoer-insale"
    http_port: int = 8002

    # 催付 (payment reminders)
    insale_unpaid_reminder_after: timedelta = timedelta(minutes=30)
    """An order still WAIT_BUYER_PAY this long after it was created gets a reminder."""
    insale_unpaid_max_reminders: int = Field(1, ge=0)
    """At most this many reminders per order (0 switches reminders off everywhere)."""
    insale_unpaid_reminder_every: timedelta = timedelta(hours=4)
    """Gap between two reminders of one order, when more than one is allowed."""
    insale_unpaid_min_lead: timedelta = timedelta(minutes=10)
    """A reminder is only useful while at least this much time is left before the order closes."""
    insale_quiet_start: time = time(22, 0)
    insale_quiet_end: time = time(8, 0)
    """Quiet hours in shop time: no reminder is sent; it is deferred to the end of them."""
    insale_reminder_opt_out: frozenset[str] = frozenset()
    """Shops that do not want reminders (JSON list of shop ids)."""
    insale_reminder_templates: dict[str, str] = Field(default_factory=dict)
    """Per-shop reminder text (JSON object shop_id → template with {item} and {close_time})."""

    # Ship-by watch
    insale_ship_within: timedelta = timedelta(hours=48)
    """The shipping promise when an order carries no promised_ship_by: paid_at + this."""
    insale_ship_risk_lead: timedelta = timedelta(hours=6)
    """ship_deadline_at_risk is raised this long before the promise if still not shipped."""

    # Logistics
    logistics_stall_after: timedelta = Field(
        timedelta(hours=72),
        validation_alias=AliasChoices("LOGISTICS_STALL_AFTER", "INSALE_LOGISTICS_STALL_AFTER"),
    )
    """No tracking event for this long means a stalled parcel (raise it for promotions)."""

    # Buyer questions
    insale_recent_orders_listed: int = Field(3, ge=1, le=10)
    """How many recent orders are listed when a buyer's question names none."""

    @field_validator("insale_reminder_templates")
    @classmethod
    def _templates_use_known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for shop, template in value.items():
            names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            unknown = names - TEMPLATE_FIELDS
            if unknown:
                raise ValueError(
                    f"reminder template for shop {shop!r} uses unknown fields {sorted(unknown)};"
                    f" allowed: {sorted(TEMPLATE_FIELDS)}"
                )
        return value
