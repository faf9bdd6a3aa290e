"""催付 recovery: reminders consumed from cs.reply.requested.v1, judged against paid orders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.metrics.domain.recovery import (
    PaidOrder,
    Reminder,
    recovery_kpis,
    recovery_totals,
)
from shared.contracts import OrderChanged, OrderItem, ReplyRequested
from tests.metrics.helpers import metrics_api, operator
from tests.support.kafka import publisher
from tests.support.runtime import wait_until

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
H = timedelta(hours=1)
DAY1 = {"from": "2026-11-02T00:00:00+08:00", "to": "2026-11-03T00:00:00+08:00"}
TWO_DAYS = {"from": "2026-11-02T00:00:00+08:00", "to": "2026-11-04T00:00:00+08:00"}
WINDOW = timedelta(hours=24)


def order(shop: str, order_id: str, fee: int, paid_at: datetime | None) -> list[OrderChanged]:
    item = OrderItem(item_id="i1", title="T恤", quantity=1, price=fee)
    base = {"shop_id": shop, "order_id": order_id, "buyer_id": f"b-{order_id}", "total_fee": fee,
            "items": [item], "created_at": T0}  # fmt: skip
    out = [OrderChanged(status="WAIT_BUYER_PAY", changed_at=T0, **base)]
    if paid_at is not None:
        out.append(OrderChanged(status="WAIT_SELLER_SEND_GOODS", paid_at=paid_at,
                                changed_at=paid_at, **base))  # fmt: skip
    return out


def reply(shop: str, order_id: str, at: datetime, kind: str = "reminder") -> ReplyRequested:
    return ReplyRequested(
        shop_id=shop, reply_request_id=uuid.uuid4().hex, conversation_id=f"c-{order_id}",
        buyer_id=f"b-{order_id}", text="亲，您的订单还未付款哦", kind=kind,  # type: ignore[arg-type]
        sender="system", requested_by="insale", order_id=order_id, requested_at=at,
    )  # fmt: skip


async def test_recovery_counts_orders_paid_within_the_window_after_a_reminder(
    infra, shop_id: str
) -> None:  # type: ignore[no-untyped-def]
    # order: (fee, paid_at, reminder times)
    plan = {
        "paid-after": (10_000, T0 + 2 * H, [T0 + 0.5 * H]),
        "paid-too-late": (20_000, T0 + 26 * H, [T0 + 0.5 * H]),
        "never-paid": (30_000, None, [T0 + 0.5 * H]),
        "paid-before": (40_000, T0 + 0.25 * H, [T0 + 0.5 * H]),
        "two-reminders": (50_000, T0 + 6 * H, [T0 + 0.5 * H, T0 + 5 * H]),
        "next-day": (60_000, T0 + 25 * H, [T0 + 24 * H]),
    }
    async with metrics_api(infra) as (rt, c), publisher(infra.bootstrap) as pub:
        reminders: list[Reminder] = []
        event_ids: list[str] = []
        for order_id, (fee, paid_at, times) in plan.items():
            for ev in order(shop_id, order_id, fee, paid_at):
                event_ids.append((await pub.event(ev)).headers["ce_id"])
            for at in times:
                r = reply(shop_id, order_id, at)
                rec = await pub.event(r, source="/xiaoer/insale")
                await pub.record(rec)  # redelivered: counted once
                reminders.append(Reminder(order_id, at))
            await pub.event(reply(shop_id, order_id, T0 + H, kind="notification"))

        async def all_in() -> bool:
            async with rt.engine.connect() as conn:
                facts = (
                    await conn.execute(
                        text("SELECT count(*) FROM fact_order_events WHERE event_id = ANY(:ids)"),
                        {"ids": event_ids},
                    )
                ).scalar_one()
                sent = (
                    await conn.execute(
                        text("SELECT count(*) FROM fact_reminders WHERE shop_id = :s"),
                        {"s": shop_id},
                    )
                ).scalar_one()
            return facts == len(event_ids) and sent == len(reminders)

        await wait_until(all_in, 30, "every order event and reminder ingested")
        url = f"/api/v1/shops/{shop_id}/kpis/reminders"
        day1 = (await c.get(url, params=DAY1, headers=operator(infra))).json()
        both = (await c.get(url, params=TWO_DAYS, headers=operator(infra))).json()

    assert (day1["reminders_sent"], day1["reminded_orders"]) == (6, 5)
    assert (day1["recovered_orders"], day1["recovered_fen"]) == (2, 60_000)  # paid-after, two-rem.
    assert day1["recovery_rate"] == 2 / 5
    assert day1["recovery_window_s"] == WINDOW.total_seconds()
    assert (both["reminded_orders"], both["recovered_orders"], both["recovered_fen"]) == (
        6,
        3,
        120_000,
    )
    assert [d["day"][:10] for d in both["days"]] == ["2026-11-02", "2026-11-03"]
    assert [d["recovered_orders"] for d in both["days"]] == [2, 1]
    # the SQL adds up exactly what the plain-Python definition says
    paid = {o: PaidOrder(p, fee) for o, (fee, p, _) in plan.items()}
    start = datetime.fromisoformat(TWO_DAYS["from"])
    end = datetime.fromisoformat(TWO_DAYS["to"])
    expected = recovery_kpis(recovery_totals(reminders, paid, start, end, WINDOW))
    assert {k: both[k] for k in expected} == expected


async def test_recovery_endpoint_is_authenticated_and_documented(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    tokens = f"{shop_id}:mine-{shop_id},{shop_id}-x:other-{shop_id}"
    async with metrics_api(infra, api_tokens=tokens, operator_token="op") as (_, c):
        url = f"/api/v1/shops/{shop_id}/kpis/reminders"
        mine = await c.get(url, params=DAY1, headers={"Authorization": f"Bearer mine-{shop_id}"})
        assert mine.status_code == 200
        assert mine.json()["reminders_sent"] == 0
        assert mine.json()["recovery_rate"] is None
        other = await c.get(url, params=DAY1, headers={"Authorization": f"Bearer other-{shop_id}"})
        assert other.status_code == 403
        assert (await c.get(url, params=DAY1)).status_code == 401
        backwards = {"from": DAY1["to"], "to": DAY1["from"]}
        r = await c.get(url, params=backwards, headers={"Authorization": "Bearer op"})
        assert r.status_code == 400
        spec = (await c.get("/openapi.json")).json()
    assert "/api/v1/shops/{shop_id}/kpis/reminders" in spec["paths"]
    assert "recovered_fen" in spec["components"]["schemas"]["RecoveryReport"]["properties"]
