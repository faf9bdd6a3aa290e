"""Presale in-process against the real broker and database, with a fake clock."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.presale.app import build_runtime
from services.presale.settings import PresaleSettings
from services.presale.store import tables
from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.support.groups import new_group
from tests.support.runtime import started

SHOP_TOKEN = "presale-test-shop-token"  # fixed: this module may be imported twice
OPERATOR_TOKEN = "presale-test-operator-token"
START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def settings_for(infra: Any, shop_id: str, **overrides: Any) -> PresaleSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.bootstrap,
        "database_url": infra.database_url,
        "api_tokens": f"{shop_id}:{SHOP_TOKEN}",
        "operator_token": OPERATOR_TOKEN,
        "outbox_poll_interval_s": 0.05,
        "kafka_group_id": new_group("presale"),  # reads only what is published from its start
    }
    return PresaleSettings(**{**values, **overrides})


@pytest.fixture
def shop_id() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def presale(infra: Any, shop_id: str, clock: FakeClock) -> AsyncIterator[ServiceRuntime]:
    runtime = build_runtime(
        settings_for(infra, shop_id, session_gap=timedelta(minutes=30)), clock=clock
    )
    async with started(runtime):
        yield runtime


async def eventually(
    check: Callable[[], Awaitable[Any]],
    timeout: float = 20.0,
    what: str = "condition",
    until: Any = True,
) -> None:
    """Poll `check` until it returns `until` (truthy when `until` is True)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await check()
        if bool(got) if until is True else got == until:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def count_rows(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def conversation_states(engine: AsyncEngine, shop_id: str) -> dict[str, str]:
    c = tables.conversations
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(c.c.conversation_id, c.c.state).where(c.c.shop_id == shop_id)
        )
        return {r.conversation_id: r.state for r in rows}
