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
    kafka_fetch_max_wait_ms: int = 10
    """KAFKA_FETCH_MAX_WAIT_MS, lower than the shared 50 ms: buyers wait on this hop. Kafka
    answers a fetch as soon as records arrive, but the dev broker (Tansu) holds it for the whole
    wait, so this is the hop's floor there (~5 ms on average instead of ~25; an idle consumer
    then fetches 100 times a second — measured in docs/scaling.md)."""
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

    presale_gap_retention_days: int = Field(30, ge=1)
    """PRESALE_GAP_RETENTION_DAYS: unanswered questions (masked) and the agents' replies are
    deleted by housekeeping after this many days."""
    presale_suggest_interval_s: float = Field(3600.0, gt=0)
    """PRESALE_SUGGEST_INTERVAL_S: how often the KB suggestions of every shop with new gaps are
    recomputed (`POST …/kb/suggestions/refresh` does it on demand)."""
    presale_suggest_window_days: int = Field(14, ge=1)
    """PRESALE_SUGGEST_WINDOW_DAYS: the suggestions are drafted from the gaps of these last days."""
    presale_suggest_min_buyers: int = Field(3, ge=1)
    """PRESALE_SUGGEST_MIN_BUYERS: distinct buyers who must have asked a question to suggest it."""
    presale_suggest_limit: int = Field(50, ge=1, le=500)
    """PRESALE_SUGGEST_LIMIT: at most this many pending suggestions per shop, best first."""

    def kb_files(self) -> list[Path]:
        return [Path(p.strip()) for p in self.presale_kb_files.split(",") if p.strip()]
