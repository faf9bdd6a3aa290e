"""Metrics wiring: the topics it reads, its batch ingest, its API, dashboard and gauges — the
one place where concrete settings, rules, stores and the runtime meet."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from services.metrics.api.dashboard import build_dashboard
from services.metrics.api.insights import build_insights_router
from services.metrics.api.kpis import build_router
from services.metrics.api.quality import build_quality_router
from services.metrics.api.refund_reasons import build_reasons_router
from services.metrics.api.reminders import build_business_router
from services.metrics.handlers import gauges
from services.metrics.handlers.facts import FACT_OF
from services.metrics.handlers.ingest import FactIngest
from services.metrics.handlers.projection import Projector
from services.metrics.handlers.snapshots import Snapshotter
from services.metrics.quality.rulebook import RuleBook
from services.metrics.settings import MetricsSettings
from services.metrics.store.tables import metadata
from shared.clock import Clock, clock_from_settings
from shared.runtime import ServiceRuntime


def build_runtime(
    settings: MetricsSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    clock = clock or clock_from_settings(settings.clock_speed, settings.clock_epoch)
    rules = RuleBook(settings.quality_rules_dir)
    projector = Projector(settings.session_gap, settings.attribution_window, rules)

    def fact_ingest(rt: ServiceRuntime) -> FactIngest:
        """Metrics consumes set-based: one projection pass per batch, not one per event."""
        return FactIngest(
            rt.engine,
            rt.plumbing,
            clock,
            list(FACT_OF),
            projector,
            rules=rules,
            snapshots=settings.snapshots_enabled,
            on_committed=rt.relay.wake,
        )

    runtime = ServiceRuntime(
        settings,
        metadata,
        {},
        consume_path=fact_ingest,
        routers=[
            build_router(settings, lambda: runtime.engine, clock),
            build_reasons_router(settings, lambda: runtime.engine),
            build_business_router(settings, lambda: runtime.engine),
            build_quality_router(settings, lambda: runtime.engine, rules),
            build_insights_router(settings, lambda: runtime.engine, clock),
            build_dashboard(),
        ],
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer metrics (客服绩效)",
    )
    snapshotter = Snapshotter(
        lambda: runtime.engine,
        clock,
        runtime.plumbing,
        settings.session_gap,
        on_committed=runtime.relay.wake,
    )
    runtime.state["snapshotter"] = snapshotter
    runtime.add_background(
        "metrics-gauges",
        lambda: gauges.run(
            runtime.engine,
            clock,
            settings.session_gap,
            settings.gauge_interval_s,
            frozenset(settings.shop_tokens().values()),
        ),
    )
    if settings.snapshots_enabled:
        runtime.add_background(
            "metrics-snapshots", lambda: snapshotter.run(settings.snapshot_interval_s)
        )
    return runtime


def build_app(settings: MetricsSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
