"""Routing rules end to end: sticky agent, VIP agents first, agent going offline, other stages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.presale.store import tables
from shared.clock import FakeClock
from shared.contracts import AgentStatusChanged, HandoffRequested, MessageReceived
from shared.ids import new_id
from shared.runtime import ServiceRuntime
from tests.presale.integration.conftest import count_rows, eventually
from tests.support.kafka import collecting, publisher

ASSIGNED = "cs.conversation.assigned.v1"


async def test_sticky_vip_offline_and_other_stages(
    infra: Any, presale: ServiceRuntime, shop_id: str, clock: FakeClock
) -> None:
    a, b, v, s = (f"{n}-{shop_id}" for n in ("a", "b", "v", "s"))
    async with collecting(infra.bootstrap, [ASSIGNED]) as seen, publisher(infra.bootstrap) as pub:

        async def agent(agent_id: str, status: str, skills: list[str], cap: int = 3) -> None:
            await pub.event(AgentStatusChanged(shop_id=shop_id, agent_id=agent_id, status=status,  # type: ignore[arg-type]
                                               skills=skills, max_concurrent=cap,  # type: ignore[arg-type]
                                               changed_at=clock.now()))  # fmt: skip

        async def human(conv: str, vip: bool = False) -> dict[str, Any]:
            n = len(seen.of(ASSIGNED, conversation_id=conv))
            await pub.event(MessageReceived(
                shop_id=shop_id, message_id=new_id(), conversation_id=conv, buyer_id=f"b-{conv}",
                text="转人工", sent_at=clock.now(), buyer_level="vip" if vip else None))  # fmt: skip
            return (await seen.wait_count(ASSIGNED, n + 1, conversation_id=conv))[-1].data

        await agent(a, "online", ["presale"])
        await agent(b, "online", ["presale"])
        await agent(v, "online", ["presale", "vip"], cap=1)
        await agent(s, "online", ["aftersale"])
        # topics are not ordered among each other: let the roster land before the buyers come
        await eventually(
            lambda: count_rows(presale.engine, tables.agents, tables.agents.c.shop_id == shop_id),
            what="the roster",
            until=4,
        )

        # VIP buyers go to the vip agent although others are as free
        assert (await human(f"vip-{shop_id}", vip=True))["agent_id"] == v

        # sticky: after the session closed, the buyer comes back to the same agent
        first = await human(f"c1-{shop_id}")
        busy_other = await human(f"c2-{shop_id}")
        assert busy_other["agent_id"] != first["agent_id"]  # least loaded
        clock.advance(timedelta(minutes=31))
        await presale.timer_runner.fire_due()
        await human(f"c3-{shop_id}")  # someone else takes the now-empty desk first
        again = await human(f"c1-{shop_id}")
        assert again["agent_id"] == first["agent_id"]

        # an agent going offline hands their chats to someone able, at once
        holder = again["agent_id"]
        other = b if holder == a else a
        await agent(holder, "offline", ["presale"])
        moved = await seen.wait_count(ASSIGNED, 3, conversation_id=f"c1-{shop_id}")
        assert moved[-1].data["agent_id"] == other
        assert moved[-1].data["reason"] == f"reassigned:{holder}_offline"
        assert moved[-1].data["priority"] == "high"

        # insale/aftersale ask for a human: routed by skill, priority kept
        await pub.event(HandoffRequested(
            shop_id=shop_id, handoff_id=new_id(), conversation_id=f"c4-{shop_id}",
            buyer_id="b-c4", skill="aftersale", priority="urgent", reason="refund_dispute",
            requested_by="aftersale", requested_at=clock.now()))  # fmt: skip
        (h,) = await seen.wait_count(ASSIGNED, 1, conversation_id=f"c4-{shop_id}")
        assert (h.data["agent_id"], h.data["priority"], h.data["skill"]) == (
            s,
            "urgent",
            "aftersale",
        )
        assert h.data["reason"] == "aftersale:refund_dispute"
