"""In-process aftersale runtimes on the real broker and database, with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.aftersale.app import build_runtime
from services.aftersale.settings import AftersaleSettings
from shared.clock import FakeClock
from shared.runtime import ServiceRuntime
from tests.aftersale.factories import T0
from tests.support.runtime import fire_all, handled, runtime_settings, started, wait_until

SHOP_TOKEN = "tok-aftersale-shop"
OPERATOR = "tok-aftersale-operator"
OUT_TOPICS = [
    "cs.case.opened.v1",
    "cs.case.resolved.v1",
    "cs.refund.decided.v1",
    "cs.handoff.requested.v1",
    "cs.order.alert.v1",
    "cs.reply.requested.v1",
]


def aftersale_settings(infra: Any, **overrides: Any) -> AftersaleSettings:
    values = {"api_tokens": f"shop-api:{SHOP_TOKEN}", "operator_token": OPERATOR, **overrides}
    return AftersaleSettings(**runtime_settings(infra, "aftersale", **values))


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture(scope="module")
async def aftersale(infra: Any, clock: FakeClock) -> AsyncIterator[ServiceRuntime]:
    """One in-process aftersale per test module (a group join costs seconds)."""
    rt = build_runtime(aftersale_settings(infra), clock=clock)
    async with started(rt) as running:
        yield running


__all__ = ["fire_all", "handled", "wait_until"]
