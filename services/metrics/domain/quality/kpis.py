"""Per-agent quality KPIs (质检) and the wellbeing (exposure) KPI, from totals. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.metrics.domain.quality.rules import CATEGORIES
from services.metrics.domain.stats import ratio

FLAG_CATEGORIES = (*CATEGORIES, "slow_reply")
RISKS = ("abuse", "threat", "scam_attempt")
QUALITY_FIELDS = (
    "inspected_replies",
    "flags_total",
    *(f"flags_{c}" for c in FLAG_CATEGORIES),
    "scored_sessions",
    "score_avg",
    "failed_sessions",
    "fail_rate",
    *(f"exposure_{r}" for r in RISKS),
)


@dataclass
class QualityTotals:
    agent_id: str
    inspected: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    score_sum: int = 0
    failed: int = 0
    exposure: dict[str, int] = field(default_factory=dict)


def quality_kpis(t: QualityTotals) -> dict[str, Any]:
    return {
        "agent_id": t.agent_id,
        "inspected_replies": t.inspected,
        "flags_total": sum(t.flags.values()),
        **{f"flags_{c}": t.flags.get(c, 0) for c in FLAG_CATEGORIES},
        "scored_sessions": t.sessions,
        "score_avg": round(t.score_sum / t.sessions, 2) if t.sessions else None,
        "failed_sessions": t.failed,
        "fail_rate": ratio(t.failed, t.sessions),
        **{f"exposure_{r}": t.exposure.get(r, 0) for r in RISKS},
    }
