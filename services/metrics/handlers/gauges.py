"""Prometheus gauges: buyers waiting for an answer now, and rounds open past 3 minutes.

Labelled by shop only for the shops this deployment knows (those with an API token): a shop id
read from events is unvalidated input, and every new label value is a new time series. Every
other shop is summed under `shop_id="other"`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Container
from datetime import timedelta

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.store import open_rounds
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


OTHER_SHOPS = "other"


async def refresh(
    engine: AsyncEngine, clock: Clock, gap: timedelta, known_shops: Container[str] = ()
) -> None:
    async with engine.connect() as conn:
        waiting = await open_rounds.waiting_now(conn, clock.now(), gap)
    totals: dict[str, list[int]] = {}
    for shop, w in waiting.items():
        label = shop if shop in known_shops else OTHER_SHOPS
        total = totals.setdefault(label, [0, 0])
        total[0] += w.buyers_waiting
        total[1] += w.rounds_past_3min
    seen = set(totals)
    for label, (buyers, rounds) in totals.items():
        BUYERS_WAITING.labels(label).set(buyers)
        ROUNDS_PAST_3MIN.labels(label).set(rounds)
    for gauge in (BUYERS_WAITING, ROUNDS_PAST_3MIN):
        for labels in list(gauge._metrics):  # shops nobody waits in any more go to 0
            if labels[0] not in seen:
                gauge.labels(*labels).set(0)


async def run(
    engine: AsyncEngine,
    clock: Clock,
    gap: timedelta,
    interval_s: float,
    known_shops: Container[str] = (),
) -> None:
    while True:
        try:
            await refresh(engine, clock, gap, known_shops)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("gauge refresh failed: %r", exc)
        with contextlib.suppress(Exception):
            await asyncio.sleep(interval_s)
