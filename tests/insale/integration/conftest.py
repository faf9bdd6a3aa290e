"""In-process insale runtimes on the real broker and database, with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event

from services.insale.app import build_runtime
from services.insale.settings import InsaleSettings
from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.insale.factories import T0
from tests.support.runtime import fire_all, handled, runtime_settings, started, wait_until


def _no_fsync_wait(dbapi_conn: Any, _record: Any) -> None:
    """Test database only: commits need not wait for the disk (durability is not under test)."""
    cursor = dbapi_conn.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()


def insale_settings(infra: Any, **overrides: Any) -> InsaleSettings:
    return InsaleSettings(**runtime_settings(infra, "insale", **overrides))


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


__all__ = ["fire_all", "handled", "wait_until"]
