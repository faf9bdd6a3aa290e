"""Insale wiring: the consumed topics on the batch pattern, the timers, the runtime."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from services.insale import store
from services.insale.domain.outcomes import (
    LOGISTICS_STALL,
    SHIP_AT_RISK,
    SHIP_MISSED,
    UNPAID_REMINDER,
)
from services.insale.domain.rules import InsaleRules
from services.insale.handlers.batch import InsaleBatch
from services.insale.handlers.timers import TimerHandlers
from services.insale.rules import rules_from_settings
from services.insale.settings import InsaleSettings
from shared.batch_consumer import BatchConsumer
from shared.clock import Clock
from shared.runtime import ServiceRuntime
from shared.timer_runner import TimerHandler


def build_runtime(
    settings: InsaleSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    rules = rules_from_settings(settings)

    def consume_path(rt: ServiceRuntime) -> BatchConsumer[Any, Any]:
        return BatchConsumer(
            rt.engine,
            rt.plumbing,
            rt.clock,
            InsaleBatch(rules),
            on_committed=rt.relay.wake,  # the relay publishes right after the commit
        )

    return ServiceRuntime(
        settings,
        store.metadata,
        {},
        consume_path=consume_path,
        timer_handlers=timer_handlers(rules),
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer insale (售中)",
    )


def timer_handlers(rules: InsaleRules) -> dict[str, TimerHandler]:
    h = TimerHandlers(rules)
    return {
        UNPAID_REMINDER: h.unpaid_reminder,
        SHIP_AT_RISK: h.ship_at_risk,
        SHIP_MISSED: h.ship_missed,
        LOGISTICS_STALL: h.logistics_stall,
    }


def build_app(settings: InsaleSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
