"""On the batch pattern, a decision that raises dead-letters only its own record: the other
records of the batch are decided, saved and their timers armed in the same transaction."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import select

from services.insale import store
from services.insale.domain import follow_up
from services.insale.handlers import orders as order_flow
from shared.cloudevents import encode
from shared.consumer import RawRecord
from shared.contracts import OrderChanged
from shared.topics import topic_for_model
from tests.insale.factories import T0, order_event, uid

TOPIC = "trade.order.changed.v1"


def _raw(payload: OrderChanged, offset: int) -> RawRecord:
    r = encode(topic_for_model(OrderChanged), payload, source="/tests")
    return RawRecord(r.topic, 0, offset, r.key.encode(), r.value, list(
        (k, v.encode()) for k, v in r.headers.items()))  # fmt: skip


async def test_a_decision_that_raises_dead_letters_only_its_record(
    insale: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = uid("shop")
    good1, bad, good2 = uid("o"), uid("o"), uid("o")

    def fails_on_bad(before: Any, e: OrderChanged, rules: Any) -> Any:
        if e.order_id == bad:
            raise RuntimeError("rule bug")
        return follow_up.on_order_changed(before, e, rules)

    monkeypatch.setattr(order_flow, "on_order_changed", fails_on_bad)
    events = [order_event(o, "WAIT_BUYER_PAY", T0, shop_id=shop) for o in (good1, bad, good2)]
    paid = order_event(good1, "WAIT_SELLER_SEND_GOODS", T0.replace(minute=5), shop_id=shop,
                       paid_at=T0.replace(minute=5))  # fmt: skip
    async with insale() as rt:
        rt.timer_runner.stop()
        # Fed straight to the consume path: one batch, at offsets no other test uses (a failed
        # record is claimed by its position).
        base = random.randrange(10**12)
        await rt.dispatcher.process([_raw(e, base + n) for n, e in enumerate([*events, paid])])
        async with rt.engine.connect() as conn:
            saved = {o: await store.get_order(conn, o) for o in (good1, bad, good2)}
            out = store.outbox
            letters = (
                await conn.execute(
                    select(out.c.key, out.c.headers).where(out.c.topic == TOPIC + ".dlq",
                                                           out.c.key.in_([good1, bad, good2]))
                )
            ).all()  # fmt: skip
            t = store.timers
            timers = (
                await conn.execute(
                    select(t.c.kind, t.c.key, t.c.cancelled_at).where(
                        t.c.key.in_([f"{o}#1" for o in (good1, bad, good2)])
                    )
                )
            ).all()
    assert saved[bad] is None
    first, second = saved[good1], saved[good2]
    assert first is not None
    assert second is not None
    assert first.status == "WAIT_SELLER_SEND_GOODS"  # its later event saw the first one's state
    assert second.status == "WAIT_BUYER_PAY"
    assert second.reminder_key == f"{good2}#1"
    assert [k for k, _ in letters] == [bad]
    assert "decision failed: RuntimeError: rule bug" in str(letters[0].headers)
    by_key = {key: cancelled for _, key, cancelled in timers}
    assert set(by_key) == {f"{good2}#1"}  # good1's reminder was armed and cancelled in one batch
    assert by_key[f"{good2}#1"] is None
