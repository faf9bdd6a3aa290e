"""Through the real broker: an abusive buyer is flagged and reaches a senior agent."""

from __future__ import annotations

from typing import Any

from services.presale.store import tables
from shared.clock import FakeClock
from shared.contracts import AgentStatusChanged, MessageReceived
from shared.ids import new_id
from shared.runtime import ServiceRuntime
from tests.presale.integration.conftest import count_rows, eventually
from tests.support.kafka import collecting, publisher

ASSIGNED = "cs.conversation.assigned.v1"
CLASSIFIED = "cs.message.classified.v1"


async def test_abusive_buyer_reaches_a_senior_agent(
    infra: Any, presale: ServiceRuntime, shop_id: str, clock: FakeClock
) -> None:
    junior, senior = f"junior-{shop_id}", f"senior-{shop_id}"
    calm, rude = f"calm-{shop_id}", f"rude-{shop_id}"
    async with (
        collecting(infra.bootstrap, [ASSIGNED, CLASSIFIED]) as seen,
        publisher(infra.bootstrap) as pub,
    ):
        for agent_id, skills in ((junior, ["presale"]), (senior, ["presale", "aftersale"])):
            await pub.event(AgentStatusChanged(
                shop_id=shop_id, agent_id=agent_id, status="online", skills=skills,  # type: ignore[arg-type]
                max_concurrent=5, changed_at=clock.now()))  # fmt: skip
        await eventually(
            lambda: count_rows(presale.engine, tables.agents, tables.agents.c.shop_id == shop_id),
            what="the roster",
            until=2,
        )

        async def say(conv: str, text: str) -> str:
            message_id = new_id()
            await pub.event(MessageReceived(
                shop_id=shop_id, message_id=message_id, conversation_id=conv,
                buyer_id=f"b-{conv}", text=text, sent_at=clock.now()))  # fmt: skip
            return message_id

        # a calm buyer asking for a human goes to the least loaded agent: the junior one
        await say(calm, "转人工")
        (first,) = await seen.wait_count(ASSIGNED, 1, conversation_id=calm)
        assert first.data["agent_id"] == junior

        # an abusive buyer is flagged and routed to the senior agent at high priority
        abusive = await say(rude, "傻逼客服，你们这群骗子")
        (flagged,) = await seen.wait_count(CLASSIFIED, 1, message_id=abusive)
        assert flagged.data["risk_flags"] == ["abuse"]
        (assigned,) = await seen.wait_count(ASSIGNED, 1, conversation_id=rude)
        assert assigned.data["agent_id"] == senior
        assert assigned.data["skill"] == "senior"
        assert assigned.data["priority"] == "high"
        assert assigned.data["reason"] == "presale:abuse"

        # the calm conversation turning threatening moves from the junior to the senior agent
        threat = await say(calm, "我知道你们地址，你给我等着")
        (flagged,) = await seen.wait_count(CLASSIFIED, 1, message_id=threat)
        assert flagged.data["risk_flags"] == ["threat"]
        moved = await seen.wait_count(ASSIGNED, 2, conversation_id=calm)
        assert moved[-1].data["agent_id"] == senior
        assert moved[-1].data["reason"] == "presale:threat"

        # a plain message is not flagged
        plain = await say(f"plain-{shop_id}", "这件有M码吗")
        (ok,) = await seen.wait_count(CLASSIFIED, 1, message_id=plain)
        assert ok.data["risk_flags"] == []
