"""Bad input on insale's topics is dead-lettered with a reason; the next good event is handled."""

from __future__ import annotations

from tests.insale.factories import T0, order_event, uid
from tests.insale.integration.conftest import handled
from tests.support.kafka import collecting, publisher

DLQ = "trade.order.changed.v1.dlq"


async def test_bad_order_event_goes_to_the_dead_letter_topic(infra, insale) -> None:
    marker = uid("bad").encode()
    async with (
        collecting(infra.bootstrap, [DLQ]) as col,
        publisher(infra.bootstrap) as pub,
        insale() as rt,
    ):
        good = order_event(uid("o"), "WAIT_BUYER_PAY", T0, shop_id=uid("shop"))
        record = await pub.event(good)  # a valid envelope to borrow
        await pub.raw(
            "trade.order.changed.v1", b"not json " + marker, key="k", headers=record.headers
            | {"ce_id": marker.decode()},
        )  # fmt: skip
        again = await pub.event(order_event(uid("o"), "WAIT_BUYER_PAY", T0, shop_id=good.shop_id))
        await handled(rt, again.headers["ce_id"])

        def dead(c) -> list:  # type: ignore[no-untyped-def]
            return [s for s in c.of(DLQ) if marker in s.value]

        await col.wait_for(lambda c: len(dead(c)) == 1, what="the dead letter")
        [letter] = dead(col)
        assert letter.headers["x-dlq-consumer"] == "xiaoer-insale"
        assert "not JSON" in letter.headers["x-dlq-reason"]
