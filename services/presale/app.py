"""Presale wiring — the only place concretes are put together: which events go to which
handler (buyer messages and order changes on the batch pattern), which timers exist, the
housekeeping, the suggestion job, the KB API, the classifier's model and the start-up KBs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.presale import insight, nlu_loader
from services.presale.api import kb_router, suggestions_router
from services.presale.handlers import SESSION_IDLE, SESSION_RECHECK, Handlers
from services.presale.handlers.front_desk import FrontDesk
from services.presale.handlers.messages import MessageBatch
from services.presale.kb.loading import KbInvalid, read_file
from services.presale.settings import PresaleSettings
from services.presale.store import buyer_orders, gaps, metadata
from services.presale.store import kb as kb_store
from services.presale.store.kb import KbCache
from shared.batch import BatchConsumer
from shared.clock import Clock
from shared.consumer import Handler
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def build_runtime(
    settings: PresaleSettings,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
) -> ServiceRuntime:
    nlu_loader.install()  # the classifier's model, read once from the shipped file
    kbs = KbCache()
    h = Handlers(settings.session_gap)
    handlers: dict[str, Handler] = {
        "cs.agent.status.v1": h.agent_status,
        "cs.handoff.requested.v1": h.handoff_requested,
    }

    def consume_path(rt: ServiceRuntime) -> BatchConsumer[Any, Any]:
        """Buyer messages, messages sent and order changes on the batch pattern; the rarer
        topics (the roster, hand-offs asked by other services) event by event."""
        return BatchConsumer(
            rt.engine,
            rt.plumbing,
            rt.clock,
            FrontDesk(MessageBatch(settings.session_gap, kbs), settings.order_context_window),
            handlers=handlers,
            on_committed=rt.relay.wake,
        )

    async def prune_kb_versions(conn: AsyncConnection, _now: datetime) -> None:
        await kb_store.prune(conn, settings.presale_kb_versions_kept)

    async def prune_buyer_orders(conn: AsyncConnection, now: datetime) -> None:
        await buyer_orders.prune(conn, now - settings.order_context_window)

    async def prune_gaps(conn: AsyncConnection, now: datetime) -> None:
        await gaps.prune_gaps(conn, now - timedelta(days=settings.presale_gap_retention_days))

    runtime = ServiceRuntime(
        settings,
        metadata,
        handlers,
        consume_path=consume_path,
        timer_handlers={SESSION_IDLE: h.session_idle, SESSION_RECHECK: h.session_idle},
        routers=[
            suggestions_router(insight.SuggestConfig.of(settings), lambda: runtime.clock),
            kb_router(),
        ],
        clock=clock,
        tracer_provider=tracer_provider,
        title="xiaoer presale (售前)",
        prune_hooks=[prune_kb_versions, prune_buyer_orders, prune_gaps],
    )
    runtime.add_background(
        "presale-kb-suggestions", lambda: insight.run(runtime.engine, runtime.clock, settings)
    )
    files = settings.kb_files()
    if files:

        async def load_kb_files() -> None:
            await seed_kbs(runtime.engine, files)

        runtime.on_ready.append(load_kb_files)
    return runtime


async def seed_kbs(engine: AsyncEngine, files: Sequence[Path]) -> None:
    """Load each file for its shop unless that shop already has a KB (any replica may race)."""
    for path in files:
        try:
            kb = read_file(path)
        except KbInvalid as exc:
            log.error("PRESALE_KB_FILES: %s not loaded: %s", path, exc)
            continue
        async with engine.begin() as conn:
            version = await kb_store.save(
                conn, kb, change=f"start-up load {path.name}", author="startup",
                only_if_absent=True,
            )  # fmt: skip
        if version is not None:
            log.info("loaded %s as %s KB version %d", path, kb.shop_id, version)


def build_app(settings: PresaleSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    return build_runtime(settings, tracer_provider).app()
