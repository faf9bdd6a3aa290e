"""Running a service in-process against the real broker and database, with a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.runtime import ServiceRuntime


@asynccontextmanager
async def started(runtime: ServiceRuntime, timeout: float = 30.0) -> AsyncIterator[ServiceRuntime]:
    """Start consuming, relaying and timers; stop cleanly afterwards."""
    task = asyncio.create_task(runtime.start())
    try:
        await asyncio.wait_for(runtime.ready.wait(), timeout)
        yield runtime
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runtime.stop()
