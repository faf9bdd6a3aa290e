from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field

from shared.settings import CommonSettings


class MetricsSettings(CommonSettings):
    service_name: str = "xiaoer-metrics"
    http_port: int = 8004
    # Facts are ingested a batch at a time: bigger batches amortize each refresh (a
    # conversation touched by ten events of a batch is recomputed once).
    kafka_max_poll_records: int = 5000
    kafka_batch_timeout_ms: int = 50
    session_gap: timedelta = timedelta(minutes=30)
    """SESSION_GAP of KPIS.md: silence after which the next message starts a new session."""
    attribution_window: timedelta = timedelta(hours=72)
    """ATTRIBUTION_WINDOW of KPIS.md: how long after an agent/bot message an order is its."""
    reminder_recovery_window: timedelta = timedelta(hours=24)
    """An order paid at most this long after a 催付 reminder counts as recovered by it."""
    snapshots_enabled: bool = True
    """Publish `cs.kpi.snapshot.v1` per agent per hour."""
    snapshot_interval_s: float = Field(10.0, gt=0)
    """How often hours marked as changed are recomputed and, if changed, re-published."""
    gauge_interval_s: float = Field(5.0, gt=0)
    """How often the buyers-waiting gauges are refreshed."""
    quality_rules_dir: Path | None = None
    """Folder of per-shop quality-rule overrides, `<shop_id>.yaml` (see docs/quality.md); the
    packaged defaults apply to every other shop."""
