"""Kill -9 aftersale in the middle of a stream of refunds: nothing lost, nothing doubled.

The service runs as its own process (python -m services.aftersale) on the real stack; after
the SIGKILL it restarts and catches up. The relay may publish a row twice (at least once);
consumers drop such copies by their CloudEvents id, so "doubled" means two different events
for one refund.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from tests.aftersale.factories import order, refund, uid
from tests.support.kafka import collecting, publisher
from tests.support.runtime import service_idle

N = 300
DECIDED, OPENED = "cs.refund.decided.v1", "cs.case.opened.v1"


async def test_sigkill_mid_stream_loses_and_doubles_nothing(infra, running_services) -> None:
    stack = await running_services("aftersale")
    shop = uid("shop-crash")
    now = datetime.now(UTC)
    async with (
        collecting(infra.bootstrap, [DECIDED, OPENED]) as col,
        publisher(infra.bootstrap) as pub,
    ):
        for i in range(N):
            await pub.event(order(f"{shop}-o{i}", "WAIT_SELLER_SEND_GOODS", shop_id=shop,
                                  buyer_id=f"{shop}-b{i}", at=now - timedelta(hours=1)))  # fmt: skip

        async def stream() -> None:
            for i in range(N):
                await pub.event(refund(f"{shop}-r{i}", f"{shop}-o{i}", shop_id=shop,
                                       buyer_id=f"{shop}-b{i}", reason="不想要了",
                                       has_good_return=False, good_status="BUYER_NOT_RECEIVED",
                                       requested_at=now))  # fmt: skip
                if i % 20 == 0:
                    await asyncio.sleep(0.05)  # a stream, not one batch

        producer = asyncio.create_task(stream())
        await col.wait_count(DECIDED, 30, 60, shop_id=shop)
        stack.kill_service("aftersale")
        killed_at = len(col.of(DECIDED, shop_id=shop))
        await producer
        await stack.start_service("aftersale")
        # distinct refunds, not events: the relay is at-least-once, and copies re-published
        # after the kill would end a count of events before the last refunds arrive
        for topic, timeout in ((DECIDED, 90), (OPENED, 30)):
            await col.wait_for(
                lambda c, t=topic: len({s.data["refund_id"] for s in c.of(t, shop_id=shop)}) >= N,
                timeout,
                f"{N} refunds on {topic}",
            )
        await service_idle(stack, "aftersale")  # any late copy has been published...
        await col.caught_up()  # ...and read

    assert killed_at < N, "the kill came too late to prove anything"
    for topic in (DECIDED, OPENED):
        ids_per_refund: dict[str, set[str]] = defaultdict(set)
        for s in col.of(topic, shop_id=shop):
            ids_per_refund[s.data["refund_id"]].add(s.headers["ce_id"])
        assert len(ids_per_refund) == N, f"{topic}: lost {N - len(ids_per_refund)}"
        doubled = {r: ids for r, ids in ids_per_refund.items() if len(ids) > 1}
        assert doubled == {}, f"{topic}: doubled {len(doubled)}"
    decisions = {s.data["decision"] for s in col.of(DECIDED, shop_id=shop)}
    assert decisions == {"approve"}
    copies = len(col.of(DECIDED, shop_id=shop)) - N
    print(f"\nkilled after {killed_at}/{N} decisions; {copies} same-id copies re-published")
