"""In-process insale runtimes on the real broker and database, with a fake clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from services.insale.app import build_runtime
from services.insale.settings import InsaleSettings
from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.insale.factories import T0
from tests.support.runtime import started


def _no_fsync_wait(dbapi_conn: Any, _record: Any) -> None:
    """Test database only: commits need not wait for the disk (durability is not under test)."""
    cursor = dbapi_conn.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()


def insale_settings(infra: Any, **overrides: Any) -> InsaleSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.bootstrap,
        "database_url": infra.database_url,
        "outbox_poll_interval_s": 0.05,
        "timer_poll_interval_s": 0.2,
        "db_pool_size": 4,
    }
    values.update(overrides)
    return InsaleSettings(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def insale(infra: Any, clock: FakeClock) -> Callable[..., Any]:
    """`async with insale(**settings) as rt:` runs insale in-process on the fake clock."""

    @asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[ServiceRuntime]:
        rt = build_runtime(insale_settings(infra, **overrides), clock=clock)
        event.listen(rt.engine.sync_engine, "connect", _no_fsync_wait)
        async with started(rt) as running:
            yield running

    return run


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def handled(rt: ServiceRuntime, *event_ids: str, timeout: float = 20.0) -> None:
    """Wait until insale's inbox holds every one of these CloudEvents ids."""
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
    """Fire every due timer (the runner fires at most one batch per call)."""
    total = 0
    while True:
        n = await rt.timer_runner.fire_due()
        total += n
        if n < rt.settings.timer_batch_size:
            return total
