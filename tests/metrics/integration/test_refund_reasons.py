"""Unrecognised refund reasons counted per shop, from `cs.refund.decided.v1` (issue 16)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.contracts import RefundDecided
from tests.metrics.helpers import metrics_api
from tests.support.kafka import publisher
from tests.support.runtime import wait_until

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
WINDOW = {"from": "2026-11-02T00:00:00+08:00", "to": "2026-11-03T00:00:00+08:00"}


def decided(shop_id: str, reason: str, recognised: bool | None, minutes: int) -> RefundDecided:
    return RefundDecided(
        shop_id=shop_id,
        refund_id=uuid.uuid4().hex,
        order_id=uuid.uuid4().hex,
        decision="escalate",
        rule_id="reason.unrecognised" if recognised is False else "seven-day.return",
        reason="…",
        decided_at=T0 + timedelta(minutes=minutes),
        refund_reason=reason,
        reason_recognised=recognised,
    )


async def test_unrecognised_reasons_are_counted_per_shop_with_their_texts(
    infra, shop_id: str
) -> None:  # type: ignore[no-untyped-def]
    other = f"{shop_id}-other"
    events = [
        decided(shop_id, "七天无理由退换货", True, 0),
        decided(shop_id, "买贵了要退差价", False, 1),
        decided(shop_id, "买贵了要退差价", False, 2),
        decided(shop_id, "退运费", False, 3),
        decided(shop_id, "七天无理由退货", None, 4),  # an older aftersale: neither
        decided(shop_id, "退运费", False, 60 * 30),  # outside the window
        decided(other, "退运费", False, 5),
    ]
    headers = {"Authorization": "Bearer op"}
    url = f"/api/v1/shops/{shop_id}/refund-reasons"
    async with (
        metrics_api(infra, operator_token="op") as (_, c),
        publisher(infra.bootstrap) as pub,
    ):
        for e in events:
            await pub.event(e)
        body: dict = {}

        async def counted() -> bool:
            nonlocal body
            body = (await c.get(url, params=WINDOW, headers=headers)).json()
            return body["decisions"] == 5

        await wait_until(counted, what="the five in-window decisions of the shop counted")
        assert body["unrecognised"] == 3
        assert body["unrecognised_texts"] == [
            {"refund_reason": "买贵了要退差价", "decisions": 2},
            {"refund_reason": "退运费", "decisions": 1},
        ]
        r = await c.get(url, params={"from": WINDOW["to"], "to": WINDOW["from"]}, headers=headers)
        assert r.status_code == 400
        assert (await c.get(url, params=WINDOW)).status_code == 401
