"""Prometheus gauges: buyers waiting for an answer now, and rounds open past 3 minutes."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics import queries
from shared.clock import Clock
from shared.observability import REGISTRY

log = logging.getLogger(__name__)

BUYERS_WAITING = Gauge(
    "xiaoer_metrics_buyers_waiting",
    "Conversations whose buyer is waiting for an answer now (open round, session not ended).",
    ["shop_id"],
    registry=REGISTRY,
)
ROUNDS_PAST_3MIN = Gauge(
    "xiaoer_metrics_rounds_past_3min",
    "Open rounds whose buyer has waited more than 3 minutes.",
    ["shop_id"],
    registry=REGISTRY,
)


async def refresh(engine: AsyncEngine, clock: Clock, gap) -> None:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        waiting = await queries.waiting_now(conn, clock.now(), gap)
    seen = set(waiting)
    for shop, w in waiting.items():
        BUYERS_WAITING.labels(shop).set(w.buyers_waiting)
        ROUNDS_PAST_3MIN.labels(shop).set(w.rounds_past_3min)
    for gauge in (BUYERS_WAITING, ROUNDS_PAST_3MIN):
        for labels in list(gauge._metrics):  # shops nobody waits in any more go to 0
            if labels[0] not in seen:
                gauge.labels(*labels).set(0)


async def run(engine: AsyncEngine, clock: Clock, gap, interval_s: float) -> None:  # type: ignore[no-untyped-def]
    while True:
        try:
            await refresh(engine, clock, gap)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("gauge refresh failed: %r", exc)
        with contextlib.suppress(Exception):
            await asyncio.sleep(interval_s)
