"""A decision that raises dead-letters only its own record: the rest of the batch is handled
and committed (the batch pattern's guarantee, with aftersale's own logic and tables)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text

from services.aftersale.app import config
from services.aftersale.domain.book import Book, View
from services.aftersale.handlers.batch import AftersaleBatch
from services.aftersale.settings import AftersaleSettings
from shared.batch import BatchConsumer, Decision, Item
from shared.cloudevents import encode
from shared.consumer import RawRecord
from shared.contracts import RefundRequested
from shared.runtime import ServiceRuntime
from shared.topics import topic
from tests.aftersale.factories import refund, uid

TOPIC = "trade.refund.requested.v1"


class ExplodesOn(AftersaleBatch):
    """Aftersale's batch logic, except that deciding one refund raises (a bug in a rule)."""

    def __init__(self, rt: ServiceRuntime, refund_id: str) -> None:
        assert isinstance(rt.settings, AftersaleSettings)
        super().__init__(config(rt.settings))
        self.refund_id = refund_id

    def decide(self, state: Book, item: Item, now: datetime) -> Decision[View]:
        assert isinstance(item.payload, RefundRequested)
        if item.payload.refund_id == self.refund_id:
            raise RuntimeError("rule blew up")
        return super().decide(state, item, now)


def raw(records: Sequence[Any]) -> list[RawRecord]:
    return [
        RawRecord(r.topic, 0, 10_000 + i, r.key.encode(), r.value, dict(r.headers))
        for i, r in enumerate(records)
    ]


async def test_a_raising_decision_dead_letters_only_its_record(
    aftersale: ServiceRuntime,
) -> None:
    shop = uid("shop-iso")
    refunds = [
        refund(uid("r"), uid("o"), shop_id=shop, buyer_id=uid("b"), reason="不想要了")
        for _ in range(3)
    ]
    bad = refunds[1].refund_id
    records = [encode(topic(TOPIC), r, source="/test") for r in refunds]
    consumer = BatchConsumer(
        aftersale.engine, aftersale.plumbing, aftersale.clock, ExplodesOn(aftersale, bad),
        max_backoff_s=0.05,
    )  # fmt: skip

    await consumer.process(raw(records))

    async with aftersale.engine.connect() as conn:
        opened = (
            await conn.execute(
                text("SELECT refund_id FROM cases WHERE shop_id = :s ORDER BY refund_id"),
                {"s": shop},
            )
        ).scalars()
        rows = (
            await conn.execute(
                text(
                    "SELECT topic, headers FROM outbox"
                    " WHERE convert_from(value, 'UTF8') LIKE '%' || :s || '%' ORDER BY id"
                ),
                {"s": shop},
            )
        ).all()
    good = sorted(r.refund_id for r in refunds if r.refund_id != bad)
    assert list(opened) == good
    dead = [r for r in rows if r.topic == f"{TOPIC}.dlq"]
    assert len(dead) == 1
    assert "decision failed: RuntimeError: rule blew up" in dead[0].headers["x-dlq-reason"]
    assert sum(r.topic == "cs.case.opened.v1" for r in rows) == 2

    await consumer.process(raw(records))  # redelivered: nothing more, the culprit included
    async with aftersale.engine.connect() as conn:
        again = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM outbox"
                    " WHERE convert_from(value, 'UTF8') LIKE '%' || :s || '%'"
                ),
                {"s": shop},
            )
        ).scalar_one()
    assert again == len(rows)
