from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from pydantic import Field

from shared.settings import CommonSettings


class AftersaleSettings(CommonSettings):
    service_name: str = "xiaoer-aftersale"
    http_port: int = 8003
    sla_lead: timedelta = timedelta(hours=12)
    """A case a human must decide is handed off at least this long before the platform acts."""
    sla_margin: timedelta = timedelta(minutes=5)
    """Allowance for timer lag: hand-offs are due SLA_LEAD + SLA_MARGIN before the deadline."""
    alert_lead: timedelta = timedelta(hours=2)
    """A case still waiting on the shop this long before the platform acts raises an alert."""
    order_facts_grace: timedelta = timedelta(minutes=2)
    """A refund for an order not seen yet waits this long for the order's event (another topic)
    before it is decided as an unknown order; 0 decides at once."""
    aftersale_rules_dir: Path | None = Field(
        None, description="directory of per-shop rule files `<shop_id>.yaml`; default rules else"
    )
    case_history_retention_days: int = Field(365, ge=1)
    """CASE_HISTORY_RETENTION_DAYS: the history of a case resolved this long ago is deleted
    (the case row stays); refund changes buffered for a refund never requested go after 30 days."""
    business_hours_start: time = time(9, 0)
    business_hours_end: time = time(23, 0)
    """Shop-local hours in which apology messages may go out (shop_timezone)."""
