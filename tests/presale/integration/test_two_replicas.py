"""Two presale replicas route hand-offs of one shop: never over capacity, spread evenly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from services.presale.app import build_runtime
from services.presale.store import tables
from shared.clock import FakeClock
from shared.contracts import AgentStatusChanged, MessageReceived
from shared.ids import new_id
from tests.presale.integration.conftest import START, eventually, settings_for
from tests.support.kafka import publisher
from tests.support.runtime import started

AGENTS, CAPACITY, BUYERS = 4, 3, 40


async def test_two_replicas_share_one_shops_agents(infra: Any, shop_id: str) -> None:
    clock = FakeClock(START)
    settings = settings_for(infra, shop_id, session_gap=timedelta(minutes=30))
    async with (
        started(build_runtime(settings, clock=clock)) as one,
        started(build_runtime(settings, clock=clock)),
        publisher(infra.bootstrap) as pub,
    ):
        for a in range(AGENTS):
            await pub.event(AgentStatusChanged(
                shop_id=shop_id, agent_id=f"{shop_id}-a{a}", status="online",
                skills=["presale"], max_concurrent=CAPACITY, changed_at=START,
            ))  # fmt: skip
        c = tables.conversations

        async def agents_known() -> bool:
            async with one.engine.connect() as conn:
                n = (await conn.execute(
                    select(func.count()).where(tables.agents.c.shop_id == shop_id)
                )).scalar_one()  # fmt: skip
            return n == AGENTS

        await eventually(agents_known, what="the roster")
        for i in range(BUYERS):
            await pub.event(MessageReceived(
                shop_id=shop_id, message_id=new_id(), conversation_id=f"{shop_id}-c{i}",
                buyer_id=f"b{i}", text="转人工", sent_at=START + timedelta(milliseconds=i),
            ))  # fmt: skip

        async def states() -> dict[str, int]:
            async with one.engine.connect() as conn:
                rows = await conn.execute(
                    select(c.c.state, func.count())
                    .where(c.c.shop_id == shop_id)
                    .group_by(c.c.state)
                )
                return {state: n for state, n in rows.all()}

        await eventually(
            states, what="every buyer assigned or queued",
            until={"assigned": AGENTS * CAPACITY, "queued": BUYERS - AGENTS * CAPACITY},
        )  # fmt: skip
        async with one.engine.connect() as conn:
            active = dict((await conn.execute(
                select(c.c.agent_id, func.count())
                .where(c.c.shop_id == shop_id, c.c.state == "assigned").group_by(c.c.agent_id)
            )).all())  # fmt: skip
            totals = (await conn.execute(
                select(tables.agents.c.assigned_total).where(tables.agents.c.shop_id == shop_id)
            )).scalars().all()  # fmt: skip
    assert all(n <= CAPACITY for n in active.values()), active
    assert max(totals) - min(totals) <= 1, totals
