"""Waiting for the database and the broker at start-up: both may come up after the process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import ping

log = logging.getLogger(__name__)


async def connect_with_retry(engine: AsyncEngine, broker: Any, what: str) -> None:
    """Ping the database and start the broker client, retrying with backoff (0.5 s to 10 s)
    until both answer; a failed attempt stops the broker client before the next one."""
    backoff = 0.5
    while True:
        try:
            await ping(engine)
            await broker.start()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s start failed (%r); retrying in %.1fs", what, exc, backoff)
            with contextlib.suppress(Exception):
                await broker.stop()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10)
