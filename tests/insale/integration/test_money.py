"""Money is BIGINT: an order above ¥21.47 M (2^31 fen) is stored, and its later events too."""

from __future__ import annotations

from datetime import timedelta

from services.insale import store
from tests.insale.factories import T0, order_event, uid
from tests.insale.integration.conftest import handled
from tests.support.kafka import publisher

BIG_FEE = 3_000_000_000  # ¥30 M in fen


async def test_an_order_above_2_pow_31_fen_is_stored(infra, insale) -> None:
    order_id = uid("o")
    async with publisher(infra.bootstrap) as pub, insale() as rt:
        first = order_event(order_id, "WAIT_BUYER_PAY", T0, shop_id=uid("shop"))
        first = first.model_copy(update={"total_fee": BIG_FEE})
        await handled(rt, (await pub.event(first)).headers["ce_id"])
        paid = first.model_copy(
            update={"status": "WAIT_SELLER_SEND_GOODS", "changed_at": T0 + timedelta(minutes=1)}
        )
        await handled(rt, (await pub.event(paid)).headers["ce_id"])
        async with rt.engine.connect() as conn:
            order = await store.get_order(conn, order_id)
    assert order is not None
    assert order.total_fee == BIG_FEE
    assert order.status == "WAIT_SELLER_SEND_GOODS"
