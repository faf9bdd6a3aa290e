"""`python -m services.<name>`: settings from the environment → logging, tracing → HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from shared.logs import setup_logging
from shared.settings import CommonSettings
from shared.telemetry import setup_tracing


def serve(
    settings: CommonSettings,
    build_app: Callable[[CommonSettings, TracerProvider], FastAPI],
    *,
    fast_loop: bool = False,
) -> None:
    """`fast_loop`: run on uvloop (libuv, C) instead of asyncio's own loop — socket reads and
    writes, timers and callbacks cost a fraction of the CPU (presale: see docs/scaling.md)."""
    setup_logging(settings.service_name, settings.log_level)
    provider = setup_tracing(settings.service_name)
    app = build_app(settings, provider)
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
