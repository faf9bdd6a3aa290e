"""Metrics wiring: the topics it reads, its batch ingest, its API, dashboard and gauges."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from services.metrics import gauges, store
from services.metrics.api import build_router
from services.metrics.dashboard import build_dashboard
from services.metrics.handlers import FACT_OF, fact_of
from services.metrics.ingest import FactIngest
from services.metrics.projection import Projector
from services.metrics.settings import MetricsSettings
from services.metrics.snapshots import Snapshotter, mark_changed
from shared.clock import Clock, clock_from_settings
from shared.cloudevents import Envelope
from shared.consumer import Handler
from shared.context import Context
from shared.contracts import EventPayload
from shared.runtime import ServiceRuntime


def build_runtime(
    settings: MetricsSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    clock = clock or clock_from_settings(settings.clock_speed, settings.clock_epoch)
    projector = Projector(settings.session_gap, settings.attribution_window)

    def one_event(topic: str) -> Handler:
        """The per-event form of the batch path (used only if the shared Dispatcher runs)."""

        async def handle(ctx: Context, payload: EventPayload, env: Envelope) -> None:
            changes = await projector.apply(ctx.conn, [fact_of(topic, payload, env)])
            if settings.snapshots_enabled:
                await mark_changed(ctx.conn, changes.cells, ctx.now(), settings.session_gap)

        return handle

    handlers = {topic: one_event(topic) for topic in FACT_OF}
    runtime = ServiceRuntime(
        settings,
        store.metadata,
        handlers,
        routers=[
            build_router(settings, lambda: runtime.engine, clock),
            build_dashboard(),
        ],
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer metrics (客服绩效)",
    )
    runtime.dispatcher = FactIngest(  # type: ignore[assignment]
        runtime.engine,
        runtime.plumbing,
        clock,
        list(handlers),
        projector,
        snapshots=settings.snapshots_enabled,
        on_committed=runtime.relay.wake,
    )
    snapshotter = Snapshotter(
        lambda: runtime.engine,
        clock,
        runtime.plumbing,
        settings.session_gap,
        on_committed=runtime.relay.wake,
    )
    runtime.state["snapshotter"] = snapshotter

    def start_background() -> None:
        # Appended to the runtime's own tasks so that `stop()` cancels them with the others.
        runtime._tasks.append(
            asyncio.create_task(
                gauges.run(runtime.engine, clock, settings.session_gap, settings.gauge_interval_s),
                name="metrics-gauges",
            )
        )
        if settings.snapshots_enabled:
            runtime._tasks.append(
                asyncio.create_task(
                    snapshotter.run(settings.snapshot_interval_s), name="metrics-snapshots"
                )
            )

    runtime.on_ready.append(start_background)
    return runtime


def build_app(settings: MetricsSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
