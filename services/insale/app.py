"""Insale wiring: which events go to which handler, which timers exist."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from services.insale import store
from services.insale.handlers import (
    LOGISTICS_STALL,
    SHIP_AT_RISK,
    SHIP_MISSED,
    UNPAID_REMINDER,
    Handlers,
)
from services.insale.settings import InsaleSettings
from shared.clock import Clock
from shared.consumer import Handler
from shared.runtime import ServiceRuntime
from shared.timer_runner import TimerHandler


def build_runtime(
    settings: InsaleSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    h = Handlers(settings)
    return ServiceRuntime(
        settings,
        store.metadata,
        event_handlers(h),
        timer_handlers=timer_handlers(h),
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer insale (售中)",
    )


def event_handlers(h: Handlers) -> dict[str, Handler]:
    return {
        "trade.order.changed.v1": h.order_changed,
        "trade.logistics.updated.v1": h.logistics_updated,
        "cs.message.classified.v1": h.message_classified,
    }


def timer_handlers(h: Handlers) -> dict[str, TimerHandler]:
    return {
        UNPAID_REMINDER: h.unpaid_reminder,
        SHIP_AT_RISK: h.ship_at_risk,
        SHIP_MISSED: h.ship_missed,
        LOGISTICS_STALL: h.logistics_stall,
    }


def build_app(settings: InsaleSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
