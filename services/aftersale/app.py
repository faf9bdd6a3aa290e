"""Aftersale wiring: which events go to which handler, which timers exist, the REST API."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale import store
from services.aftersale.api import build_router
from services.aftersale.domain.rules import RuleBook
from services.aftersale.handlers import (
    REFUND_ALERT,
    REFUND_DECIDE,
    REFUND_SLA,
    REVIEW_APOLOGY,
    Handlers,
)
from services.aftersale.settings import AftersaleSettings
from shared.clock import Clock
from shared.runtime import ServiceRuntime


def build_runtime(
    settings: AftersaleSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    rules = RuleBook.from_dir(settings.aftersale_rules_dir)  # a bad rule file fails start-up
    h = Handlers(settings, rules)

    async def prune(conn: AsyncConnection, now: datetime) -> None:
        await store.prune(conn, now, timedelta(days=settings.case_history_retention_days))

    return ServiceRuntime(
        settings,
        store.metadata,
        {
            "trade.order.changed.v1": h.order_changed,
            "trade.refund.requested.v1": h.refund_requested,
            "trade.refund.changed.v1": h.refund_changed,
            "trade.review.posted.v1": h.review_posted,
            "cs.message.classified.v1": h.message_classified,
        },
        timer_handlers={
            REFUND_DECIDE: h.refund_decide,
            REFUND_SLA: h.refund_sla,
            REFUND_ALERT: h.refund_alert,
            REVIEW_APOLOGY: h.review_apology,
        },
        routers=[build_router(settings, rules)],
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer aftersale (售后)",
        prune_hooks=[prune],
    )


def build_app(
    settings: AftersaleSettings, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
