"""Through the real broker into the metrics runtime: rounds and response times per agent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.contracts import ConversationAssigned, MessageReceived, MessageSent
from tests.metrics.helpers import metrics_api, operator
from tests.support.kafka import publisher
from tests.support.runtime import idle

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


async def test_rounds_answered_and_average_response_time(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    conv = f"c-{uuid.uuid4().hex[:8]}"

    def buyer(s: int) -> MessageReceived:
        return MessageReceived(
            shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv,
            buyer_id="b1", text="在吗", sent_at=T0 + timedelta(seconds=s),
        )  # fmt: skip

    def agent(s: int, who: str) -> MessageSent:
        return MessageSent(
            shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv, buyer_id="b1",
            sender_kind="agent", sender_id=who, text="在的", sent_at=T0 + timedelta(seconds=s),
        )  # fmt: skip

    async with metrics_api(infra) as (rt, client), publisher(infra.bootstrap) as pub:
        events = [buyer(0), agent(30, "a1"), buyer(100), agent(190, "a1"), buyer(400)]
        events.append(
            ConversationAssigned(
                shop_id=shop_id,
                conversation_id=conv,
                agent_id="a2",
                assigned_at=T0 + timedelta(seconds=300),
                reason="test",
            )
        )
        for e in events:
            await pub.event(e)
        dup = await pub.event(agent(500, "a2"))
        await pub.record(dup)  # a duplicate changes nothing
        params = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
        await idle(rt)  # every event (and the duplicate) ingested
        r = await client.get(
            f"/api/v1/shops/{shop_id}/kpis/agents", params=params, headers=operator(infra)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        agents = {a["agent_id"]: a for a in body["agents"]}
        assert agents["a1"]["rounds_answered"] == 2
        assert agents["a1"]["response_time_avg_s"] == 60.0
        assert agents["a2"]["rounds_answered"] == 1
        assert agents["a2"]["response_time_avg_s"] == 100.0
        assert body["final"] is True
