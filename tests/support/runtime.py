"""Running a service in-process against the real broker and database, with a fake clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text

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


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def handled(rt: ServiceRuntime, *event_ids: str, timeout: float = 30.0) -> None:
    """Wait until the service's inbox holds every one of these CloudEvents ids."""
    wanted = list(event_ids)

    async def check() -> bool:
        async with rt.engine.connect() as conn:
            n = (
                await conn.execute(
                    text("SELECT count(*) FROM inbox WHERE event_id = ANY(:ids)"), {"ids": wanted}
                )
            ).scalar_one()
        return n == len(set(wanted))

    await wait_until(check, timeout, f"{len(wanted)} events handled")


async def fire_all(rt: ServiceRuntime) -> int:
    """Fire every due timer, including ones that firing makes due (one batch per call)."""
    total = 0
    while n := await rt.timer_runner.fire_due():
        total += n
    return total
