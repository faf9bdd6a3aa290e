"""The issue's rush: 200 conversations on 10 agents with mixed skills and capacities.

Presale runs in-process with a fake clock; capacity frees when sessions close (SESSION_GAP of
silence, fired with `fire_due`) or when an agent comes online. Checked from the events on the
real broker: nobody over capacity, queued conversations assigned within 1 s of capacity freeing,
VIP first, even spread among equal agents.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.presale.store import tables
from shared.clock import FakeClock
from shared.contracts import AgentStatusChanged, HandoffRequested, MessageReceived
from shared.ids import new_id
from shared.runtime import ServiceRuntime
from tests.presale.integration.conftest import (
    START,
    conversation_states,
    count_rows,
    eventually,
)
from tests.support.kafka import Collector, collecting, publisher

GAP = timedelta(minutes=30)
ROSTER: dict[str, tuple[list[str], int]] = {
    **{f"p{i}": (["presale"], 3) for i in range(1, 5)},
    **{f"v{i}": (["presale", "vip"], 2) for i in range(1, 3)},
    **{f"m{i}": (["presale", "insale"], 4) for i in range(1, 3)},
    "s1": (["aftersale"], 5),
    "s2": (["aftersale", "insale"], 2),
}
EQUAL_GROUPS = (("p1", "p2", "p3", "p4"), ("v1", "v2"), ("m1", "m2"))
N_NORMAL, N_VIP, N_INSALE, N_AFTERSALE = 130, 20, 25, 25


async def _wait_assigned(seen: Collector, shop: str, n: int) -> float:
    started = time.monotonic()
    await seen.wait_count("cs.conversation.assigned.v1", n, timeout=10, shop_id=shop)
    return time.monotonic() - started


async def _assigned_in_db(presale: ServiceRuntime, shop: str) -> int:
    a = tables.agents
    async with presale.engine.connect() as c:
        totals = (await c.execute(select(a.c.assigned_total).where(a.c.shop_id == shop))).scalars()
        return sum(totals)


async def _check_capacity_in_db(presale: ServiceRuntime, shop: str) -> None:
    c = tables.conversations
    async with presale.engine.connect() as conn:
        rows = await conn.execute(
            select(c.c.agent_id).where(c.c.shop_id == shop, c.c.state == "assigned")
        )
        load = Counter(r.agent_id for r in rows)
    for agent_id, n in load.items():
        assert n <= ROSTER[agent_id.split("-")[0]][1], (agent_id, n)


async def test_rush_of_200_conversations_on_10_agents(
    infra: Any, presale: ServiceRuntime, shop_id: str, clock: FakeClock
) -> None:
    shop = shop_id
    agent = {name: f"{name}-{shop}" for name in ROSTER}
    topics = ["cs.conversation.assigned.v1", "cs.conversation.closed.v1"]
    kinds: dict[str, str] = {}
    async with collecting(infra.bootstrap, topics) as seen, publisher(infra.bootstrap) as pub:

        async def status(name: str, state: str, at: datetime) -> None:
            skills, cap = ROSTER[name]
            await pub.event(AgentStatusChanged(shop_id=shop, agent_id=agent[name], status=state,
                                               skills=skills, max_concurrent=cap, changed_at=at))  # type: ignore[arg-type]  # fmt: skip

        for name in ROSTER:  # p4 starts late: its arrival is "capacity freeing" too
            await status(name, "offline" if name == "p4" else "online", START)
        await eventually(  # topics are not ordered among each other: roster first
            lambda: count_rows(presale.engine, tables.agents, tables.agents.c.shop_id == shop),
            what="the roster",
            until=len(ROSTER),
        )

        async def buyer(kind: str, i: int, vip: bool = False) -> None:
            conv = f"{kind}-{i}-{shop}"
            kinds[conv] = kind
            await pub.event(MessageReceived(
                shop_id=shop, message_id=new_id(), conversation_id=conv, buyer_id=f"b-{conv}",
                text="转人工", sent_at=START + timedelta(milliseconds=len(kinds)),
                buyer_level="vip" if vip else "normal",
            ))  # fmt: skip

        async def stage(kind: str, i: int) -> None:
            conv = f"{kind}-{i}-{shop}"
            kinds[conv] = kind
            await pub.event(HandoffRequested(
                shop_id=shop, handoff_id=new_id(), conversation_id=conv, buyer_id=f"b-{conv}",
                skill=kind, reason="needs a human", requested_by=kind,  # type: ignore[arg-type]
                requested_at=START + timedelta(milliseconds=len(kinds)),
            ))  # fmt: skip

        for i in range(N_NORMAL):
            await buyer("presale", i)
        for i in range(max(N_INSALE, N_AFTERSALE)):
            if i < N_INSALE:
                await stage("insale", i)
            if i < N_AFTERSALE:
                await stage("aftersale", i)
        for i in range(N_VIP):  # the VIPs arrive last
            await buyer("vip", i, vip=True)
        assert len(kinds) == 200

        async def all_arrived() -> bool:
            states = await conversation_states(presale.engine, shop)
            return len(states) == 200 and set(states.values()) <= {"assigned", "queued"}

        await eventually(all_arrived, timeout=60, what="200 conversations assigned or queued")
        await _check_capacity_in_db(presale, shop)
        initial = await _assigned_in_db(presale, shop)
        await _wait_assigned(seen, shop, initial)
        assert initial == 24 - 3 + 2 + 5  # presale (p4 offline) + s2 + s1

        latencies: list[float] = []
        clock.advance(timedelta(seconds=1))
        published = time.monotonic()
        await status("p4", "online", START + timedelta(seconds=1))
        await seen.wait_count("cs.conversation.assigned.v1", initial + 3, timeout=10, shop_id=shop)
        latencies.append(time.monotonic() - published)

        waves = 0
        while "queued" in (await conversation_states(presale.engine, shop)).values():
            waves += 1
            assert waves < 30, "the queue does not drain"
            clock.advance(GAP + timedelta(seconds=1))
            while await presale.timer_runner.fire_due():  # commits: capacity is free now
                pass
            await _check_capacity_in_db(presale, shop)
            latencies.append(await _wait_assigned(seen, shop, await _assigned_in_db(presale, shop)))

        # The closings travel on another topic than the assignments they made room for: wait
        # until every closing the database knows of has arrived before replaying the timeline.
        async def all_closings_seen() -> bool:
            states = await conversation_states(presale.engine, shop)
            closed_in_db = sum(state == "closed" for state in states.values())
            return len(seen.of("cs.conversation.closed.v1", shop_id=shop)) >= closed_in_db

        await eventually(all_closings_seen, timeout=20, what="every closing event")
        assigned = [s.data for s in seen.of("cs.conversation.assigned.v1", shop_id=shop)]
        closed = [s.data for s in seen.of("cs.conversation.closed.v1", shop_id=shop)]

    # every conversation got a human with the right skill, exactly once
    assert len(assigned) == 200 == len({a["conversation_id"] for a in assigned})
    for a in assigned:
        skills = ROSTER[a["agent_id"].split("-")[0]][0]
        assert {"vip": "presale"}.get(
            kinds[a["conversation_id"]], kinds[a["conversation_id"]]
        ) in skills

    # never over capacity, replayed from the events in business time (closes free first)
    timeline = sorted(
        [
            (datetime.fromisoformat(c["closed_at"]), 0, c["agent_id"])
            for c in closed
            if c["agent_id"]
        ]
        + [(datetime.fromisoformat(a["assigned_at"]), 1, a["agent_id"]) for a in assigned]
    )
    load: Counter[str] = Counter()
    for _, is_assign, agent_id in timeline:
        load[agent_id] += 1 if is_assign else -1
        assert 0 <= load[agent_id] <= ROSTER[agent_id.split("-")[0]][1], agent_id

    # assigned within 1 s of capacity freeing
    assert max(latencies) < 1.0, latencies

    # VIP first: the 20 VIPs arrived last, behind 100+ waiting buyers; p4 coming online took
    # three of them, and the first wave of closings served the rest before any normal buyer
    at = {a["conversation_id"]: datetime.fromisoformat(a["assigned_at"]) for a in assigned}
    vip_at = [t for c, t in at.items() if kinds[c] == "vip"]
    waiting_normal_at = [t for c, t in at.items() if kinds[c] == "presale" and t > START]
    assert max(vip_at) <= min(waiting_normal_at)
    p4_first = [kinds[a["conversation_id"]] for a in assigned
                if at[a["conversation_id"]] == START + timedelta(seconds=1)]  # fmt: skip
    assert p4_first == ["vip"] * 3
    assert all(a["priority"] == "high" for a in assigned if kinds[a["conversation_id"]] == "vip")

    # even spread among equally skilled agents of equal capacity
    counts = Counter(a["agent_id"].split("-")[0] for a in assigned)
    for group in EQUAL_GROUPS:
        spread = [counts[name] for name in group]
        assert max(spread) - min(spread) <= 1, (group, spread)

    print(f"\nrush: {waves} waves, assignment latency after capacity freed: "
          f"max {max(latencies) * 1000:.0f} ms, per-agent {dict(sorted(counts.items()))}")  # fmt: skip
