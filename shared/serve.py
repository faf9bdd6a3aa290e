"""`python -m services.<name>`: settings from the environment → logging, tracing → HTTP."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from shared.logs import setup_logging
from shared.settings import CommonSettings
from shared.telemetry import setup_tracing

GC_THRESHOLDS = (50_000, 20, 100)
"""The collector's generation thresholds once the process is built (CPython's are 700, 10,
10). A consumed batch allocates tens of thousands of short-lived containers; at 700 the
collector ran hundreds of times per 6,000 events and the full collections walked every object
the process holds. Measured on aftersale's consume path (bench/gc_tuning.py): see
docs/scaling.md."""


def quiet_collector() -> None:
    """Freeze what exists now (modules, the app, its caches: alive as long as the process) out
    of the collector's sight, and collect the young generation far less often. Cyclic garbage
    still goes, a little later; the memory it waits in is bounded by the first threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


S = TypeVar("S", bound=CommonSettings)


def serve(
    settings: S,
    build_app: Callable[[S, TracerProvider], FastAPI],
    *,
    fast_loop: bool = False,
) -> None:
    """`fast_loop`: run on uvloop (libuv, C) instead of asyncio's own loop — socket reads and
    writes, timers and callbacks cost a fraction of the CPU (presale: see docs/scaling.md)."""
    setup_logging(settings.service_name, settings.log_level)
    provider = setup_tracing(settings.service_name)
    app = build_app(settings, provider)
    quiet_collector()
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.graceful_timeout_s),
    )
    if fast_loop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        asyncio.run(uvicorn.Server(config).serve())
    finally:
        provider.shutdown()
