"""Routing rules: skill, VIP first, sticky, least loaded, capacity, queue order."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from services.presale.domain.routing import (
    AgentLoad,
    Waiting,
    choose_agent,
    drain,
    queue_order,
    queue_room,
    required_skill,
)

T0 = datetime(2026, 11, 28, 9, tzinfo=UTC)


def agent(
    agent_id: str,
    *skills: str,
    cap: int = 3,
    active: int = 0,
    status: str = "online",
    total: int = 0,
) -> AgentLoad:
    return AgentLoad(agent_id, status, frozenset(skills or ("presale",)), cap, active, total)


def wait(cid: str, skill: str = "presale", prio: int = 1, at: int = 0, **kw: object) -> Waiting:
    return Waiting(cid, skill, prio, T0 + timedelta(seconds=at), **kw)  # type: ignore[arg-type]


def test_required_skill_by_stage() -> None:
    assert [required_skill(s) for s in ("presale", "insale", "aftersale", "senior")] == [
        "presale", "insale", "aftersale", "aftersale"
    ]  # fmt: skip


def test_only_online_agents_with_the_skill_and_capacity() -> None:
    agents = [
        agent("a", "insale"),
        agent("b", status="busy"),
        agent("c", status="offline"),
        agent("d", cap=2, active=2),
    ]
    assert choose_agent(agents, "presale") is None
    assert choose_agent([*agents, agent("e")], "presale").agent_id == "e"  # type: ignore[union-attr]


def test_least_loaded_by_share_of_capacity_then_assigned_so_far() -> None:
    agents = [agent("a", cap=4, active=2), agent("b", cap=8, active=3), agent("c", cap=2, active=1)]
    assert choose_agent(agents, "presale").agent_id == "b"  # type: ignore[union-attr]
    even = [agent("a", total=5), agent("b", total=4), agent("c", total=6)]
    assert choose_agent(even, "presale").agent_id == "b"  # type: ignore[union-attr]


def test_vip_goes_to_vip_agents_first_then_anyone() -> None:
    agents = [agent("a"), agent("v", "presale", "vip", active=2)]
    assert choose_agent(agents, "presale", vip=True).agent_id == "v"  # type: ignore[union-attr]
    full = [agent("a"), agent("v", "presale", "vip", active=3)]
    assert choose_agent(full, "presale", vip=True).agent_id == "a"  # type: ignore[union-attr]
    assert choose_agent(agents, "presale").agent_id == "a"  # type: ignore[union-attr]


def test_sticky_to_the_previous_agent_when_free() -> None:
    agents = [agent("a", active=0), agent("b", active=2)]
    assert choose_agent(agents, "presale", previous="b").agent_id == "b"  # type: ignore[union-attr]
    full = [agent("a"), agent("b", active=3)]
    assert choose_agent(full, "presale", previous="b").agent_id == "a"  # type: ignore[union-attr]
    away = [agent("a"), agent("b", status="offline")]
    assert choose_agent(away, "presale", previous="b").agent_id == "a"  # type: ignore[union-attr]


def test_queue_order_priority_then_waiting_time() -> None:
    q = [wait("late-normal", at=5), wait("early-normal", at=1), wait("vip", prio=2, at=9)]
    assert [w.conversation_id for w in queue_order(q)] == ["vip", "early-normal", "late-normal"]


def test_drain_never_exceeds_capacity_and_skips_unservable() -> None:
    agents = [agent("a", cap=2), agent("b", cap=1, active=1), agent("s", "aftersale", cap=1)]
    q = [wait(f"p{i}", at=i) for i in range(5)] + [wait("after", "aftersale", at=9)]
    plan = drain(q, agents)
    assert [(w.conversation_id, a) for w, a in plan] == [("p0", "a"), ("p1", "a"), ("after", "s")]


def test_drain_serves_vip_first_and_spreads_evenly() -> None:
    agents = [agent(f"a{i}", cap=3) for i in range(4)] + [agent("v", "presale", "vip", cap=2)]
    q = [wait(f"n{i}", at=i) for i in range(20)] + [
        wait(f"vip{i}", prio=2, at=100 + i, vip=True) for i in range(3)
    ]
    plan = drain(q, agents)
    assert len(plan) == 14
    assert [w.conversation_id for w, _ in plan[:3]] == ["vip0", "vip1", "vip2"]
    assert [a for _, a in plan[:2]] == ["v", "v"]  # vip agents first, then anyone
    counts = Counter(a for _, a in plan if a != "v")
    assert max(counts.values()) - min(counts.values()) <= 1


def test_queue_room_is_the_free_capacity_per_stored_skill() -> None:
    agents = [
        agent("a", cap=3, active=1),
        agent("b", "presale", "aftersale", cap=2),
        agent("busy", "insale", cap=2, status="busy"),
        agent("full", "insale", cap=2, active=2),
    ]
    # senior work is served by aftersale staff, so it reaches as far as aftersale does
    assert queue_room(agents) == {"presale": 4, "aftersale": 2, "senior": 2}
    assert queue_room([agent("x", cap=1, active=1), agent("y", status="offline")]) == {}


def test_draining_only_the_reachable_part_of_the_queue_assigns_the_same() -> None:
    """The drain reads, per stored skill, only the first `queue_room` conversations: on random
    rosters and queues it must assign exactly what a drain of the whole queue assigns."""
    rng = random.Random(20261203)
    stored = ("presale", "insale", "aftersale", "senior")
    for _ in range(300):
        agents = [
            agent(f"a{i}", *rng.sample(["presale", "insale", "aftersale", "vip"], rng.randint(1, 3)),
                  cap=rng.randint(1, 4), active=rng.randint(0, 4),
                  status=rng.choice(["online", "online", "busy", "offline"]))
            for i in range(rng.randint(0, 5))
        ]  # fmt: skip
        queue = [
            wait(f"c{j}", rng.choice(stored), prio=rng.randint(0, 3), at=rng.randint(0, 50),
                 vip=rng.random() < 0.2, last_agent_id=rng.choice([None, "a0", "a1"]))
            for j in range(rng.randint(0, 40))
        ]  # fmt: skip
        room = queue_room(agents)
        reachable = [
            w
            for skill in stored
            for w in queue_order(w for w in queue if w.skill == skill)[: room.get(skill, 0)]
        ]
        assert drain(reachable, agents) == drain(queue, agents)
