"""Aftersale wiring: the batch consume path, the timers, the REST API — the one place where
concrete settings, rules, stores and the runtime meet."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.api import build_router
from services.aftersale.domain.effects import Config
from services.aftersale.handlers.batch import AftersaleBatch
from services.aftersale.handlers.deadlines import Deadlines
from services.aftersale.rules_loader import load_rule_book
from services.aftersale.settings import AftersaleSettings
from services.aftersale.store import housekeeping
from services.aftersale.store.tables import metadata
from shared.batch_consumer import BatchConsumer
from shared.clock import Clock
from shared.runtime import ServiceRuntime


def config(settings: AftersaleSettings) -> Config:
    return Config(
        rules=load_rule_book(settings.aftersale_rules_dir),  # a bad rule file fails start-up
        tz=ZoneInfo(settings.shop_timezone),
        sla_lead=settings.sla_lead,
        sla_margin=settings.sla_margin,
        alert_lead=settings.alert_lead,
        order_facts_grace=settings.order_facts_grace,
        business_hours_start=settings.business_hours_start,
        business_hours_end=settings.business_hours_end,
    )


def build_runtime(
    settings: AftersaleSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    cfg = config(settings)
    batch = AftersaleBatch(cfg)

    def consume_path(rt: ServiceRuntime) -> BatchConsumer[Any, Any]:
        return BatchConsumer(rt.engine, rt.plumbing, rt.clock, batch, on_committed=rt.relay.wake)

    async def prune(conn: AsyncConnection, now: datetime) -> None:
        await housekeeping.prune(conn, now, timedelta(days=settings.case_history_retention_days))

    return ServiceRuntime(
        settings,
        metadata,
        {},
        consume_path=consume_path,
        timer_handlers=Deadlines(cfg).handlers(),
        routers=[build_router(settings, cfg.rules)],
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer aftersale (售后)",
        prune_hooks=[prune],
    )


def build_app(
    settings: AftersaleSettings, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
