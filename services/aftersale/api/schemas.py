"""The JSON shapes the API answers with, from domain records."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from services.aftersale.domain.model import Case, HistoryEntry


def case_json(case: Case) -> dict[str, Any]:
    out = asdict(case)
    for k, v in out.items():
        if isinstance(v, datetime):
            out[k] = v.isoformat()
        elif isinstance(v, tuple):
            out[k] = list(v)
    return out


def history_json(steps: list[HistoryEntry]) -> list[dict[str, str]]:
    return [{"at": h.at.isoformat(), "event": h.event, "detail": h.detail} for h in steps]
