"""Kill -9 insale in the middle of a stream: after a restart nothing is lost or doubled."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from shared.db import create_engine
from tests.insale.factories import order_event, uid
from tests.insale.integration.conftest import wait_until
from tests.support.kafka import collecting, publisher
from tests.support.runtime import service_idle

REPLIES = "cs.reply.requested.v1"
N = 600


async def test_sigkill_mid_stream_loses_and_doubles_nothing(
    infra, running_services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process runs on the real clock: no quiet hours, so the test does not depend on it.
    monkeypatch.setenv("INSALE_QUIET_START", "00:00")
    monkeypatch.setenv("INSALE_QUIET_END", "00:00")
    shop = uid("shop")
    orders = [uid("o") for _ in range(N)]
    created = datetime.now(UTC) - timedelta(hours=2)  # every reminder is due at once
    engine = create_engine(infra.database_url, "insale", pool_size=1)

    async def handled() -> int:
        async with engine.connect() as conn:
            return (
                await conn.execute(
                    text("SELECT count(*) FROM orders WHERE shop_id = :s"), {"s": shop}
                )
            ).scalar_one()

    try:
        await running_services("insale")
        async with collecting(infra.bootstrap, [REPLIES]) as col, publisher(infra.bootstrap) as pub:

            async def stream() -> None:
                for o in orders:
                    await pub.event(
                        order_event(o, "WAIT_BUYER_PAY", created, shop_id=shop,
                                    timeout_action_time=created + timedelta(hours=24))
                    )  # fmt: skip

            streaming = asyncio.create_task(stream())
            await wait_until(lambda: _at_least(handled, N // 10), 30, "a tenth handled")
            infra.kill_service("insale")  # SIGKILL while the stream goes on
            killed_at = await handled()
            await streaming
            await infra.start_service("insale")
            await col.wait_count(REPLIES, N, timeout=60, shop_id=shop)
            await service_idle(infra, "insale")  # anything doubled has been published...
            await col.caught_up()  # ...and read
        seen = col.of(REPLIES, shop_id=shop)
        # The relay publishes at least once: a row published just before the kill but not yet
        # marked sent goes out again after the restart — as the very same event (same ce_id),
        # which every consumer's inbox absorbs. What must never happen is a second, different
        # reminder for an order.
        events = {s.headers["ce_id"]: s.data for s in seen}
        per_order = Counter(data["order_id"] for data in events.values())
        assert 0 < killed_at < N, "the kill should land in the middle of the stream"
        assert set(per_order) == set(orders)
        assert set(per_order.values()) == {1}
        ids = {data["reply_request_id"] for data in events.values()}
        assert len(ids) == N
        assert len(seen) - len(events) <= 500  # republished copies: at most one relay batch
    finally:
        await engine.dispose()


async def _at_least(count, n: int) -> bool:  # type: ignore[no-untyped-def]
    return await count() >= n
