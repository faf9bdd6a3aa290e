from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field

from shared.settings import CommonSettings


class PresaleSettings(CommonSettings):
    service_name: str = "xiaoer-presale"
    http_port: int = 8001
    session_gap: timedelta = timedelta(minutes=30)
    """Silence after which a conversation's session closes and frees its agent (SESSION_GAP)."""
    presale_kb_files: str = ""
    """PRESALE_KB_FILES: comma-separated YAML/JSON KB files loaded at start-up for every shop
    that has no KB yet (e.g. services/presale/kb/shop-demo.yaml in the local stack)."""
    presale_kb_versions_kept: int = Field(100, ge=1)
    """PRESALE_KB_VERSIONS_KEPT: older versions of a shop's KB are deleted by housekeeping."""
    presale_order_retention_days: int = Field(30, ge=1)
    """PRESALE_ORDER_RETENTION_DAYS: a buyer's latest order (trade.order.changed.v1) tells the
    classifier its phase this long after its last change, and is then deleted by housekeeping;
    "no order" is believed only once a shop's orders have been followed this long."""

    @property
    def order_context_window(self) -> timedelta:
        return timedelta(days=self.presale_order_retention_days)

    def kb_files(self) -> list[Path]:
        return [Path(p.strip()) for p in self.presale_kb_files.split(",") if p.strip()]
