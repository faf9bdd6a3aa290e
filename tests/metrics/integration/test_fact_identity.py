"""Facts are keyed by CloudEvents `source` + `id`, as the spec defines an event's identity:
through the real broker and database, two events with the same id from different sources both
count, the same source + id twice counts once, and a replay reproduces exactly that."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from services.metrics.store import tables
from shared.contracts import ConversationAssigned, CsatSubmitted, OrderChanged, OrderItem
from shared.db import create_engine
from tests.metrics.helpers import metrics_api, operator
from tests.support.kafka import publisher
from tests.support.runtime import idle

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)
A, B = "/platform/connector-a", "/platform/connector-b"


def paid_order(shop: str, order_id: str) -> OrderChanged:
    return OrderChanged(
        shop_id=shop, order_id=order_id, buyer_id=f"b-{order_id}", total_fee=1000,
        items=[OrderItem(item_id="i1", title="T恤", quantity=1, price=1000)], created_at=T0,
        status="WAIT_SELLER_SEND_GOODS", paid_at=T0 + timedelta(minutes=1),
        changed_at=T0 + timedelta(minutes=1),
    )  # fmt: skip


async def test_same_id_from_two_sources_counts_twice_same_source_once(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    order_id, assign_id, csat_id = (uuid.uuid4().hex for _ in range(3))
    conv = f"c-{uuid.uuid4().hex[:8]}"

    def assigned(agent: str) -> ConversationAssigned:
        return ConversationAssigned(
            shop_id=shop_id, conversation_id=conv, agent_id=agent,
            assigned_at=T0 + timedelta(minutes=2), reason="test",
        )  # fmt: skip

    def rating(stars: int) -> CsatSubmitted:
        return CsatSubmitted(
            shop_id=shop_id, conversation_id=conv, buyer_id="b1", rating=stars,
            submitted_at=T0 + timedelta(minutes=3),
        )  # fmt: skip

    async with metrics_api(infra) as (rt, client), publisher(infra.bootstrap) as pub:
        # The same ce_id from two producers: two different events.
        await pub.event(paid_order(shop_id, "o-1"), event_id=order_id, source=A)
        await pub.event(paid_order(shop_id, "o-2"), event_id=order_id, source=B)
        await pub.event(assigned("a1"), event_id=assign_id, source=A)
        await pub.event(assigned("a2"), event_id=assign_id, source=B)
        await pub.event(rating(5), event_id=csat_id, source=A)
        await pub.event(rating(2), event_id=csat_id, source=B)
        # The same source + id again (a redelivery): no new fact.
        await pub.event(paid_order(shop_id, "o-1"), event_id=order_id, source=A)
        await pub.event(assigned("a2"), event_id=assign_id, source=B)
        await pub.event(rating(5), event_id=csat_id, source=A)
        await idle(rt)

        params = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
        r = await client.get(
            f"/api/v1/shops/{shop_id}/kpis/shop", params=params, headers=operator(infra)
        )
        assert r.status_code == 200, r.text
        shop = r.json()
        assert shop["orders_paid"] == 2
        assert shop["handoffs"] == 2

    live = create_engine(infra.database_url, "metrics", pool_size=1)
    try:
        async with live.connect() as conn:

            async def facts(table, *columns):  # type: ignore[no-untyped-def]
                rows = await conn.execute(
                    select(*(table.c[c] for c in columns))
                    .where(table.c.shop_id == shop_id)
                    .order_by(*(table.c[c] for c in columns))
                )
                return [tuple(row) for row in rows]

            assert await facts(tables.fact_order_events, "event_source", "order_id") == [
                (A, "o-1"),
                (B, "o-2"),
            ]
            assert await facts(tables.fact_assignments, "event_source", "agent_id") == [
                (A, "a1"),
                (B, "a2"),
            ]
            assert await facts(tables.fact_csat, "event_source", "rating") == [(A, 5), (B, 2)]
            assert await facts(tables.csat_attributed, "event_source", "rating") == [
                (A, 5),
                (B, 2),
            ]
            orders = await conn.execute(
                select(func.count()).where(tables.orders.c.shop_id == shop_id)
            )
            assert orders.scalar() == 2
    finally:
        await live.dispose()

    # The replay keys its facts the same way: it equals live, row for row.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ops.metrics_replay", "--shop", shop_id,
        cwd=ROOT, env={**os.environ, **infra.env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "replay equals live" in text, text
    compared = {line.split()[0] for line in text.splitlines() if line.endswith(" ok")}
    assert {"fact_order_events", "fact_assignments", "fact_csat", "csat_attributed",
            "orders"} <= compared, text  # fmt: skip
