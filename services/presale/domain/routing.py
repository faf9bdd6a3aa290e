"""Choosing a human agent for a conversation, and draining the queue. Pure.

Rules, in order, among the agents who can take the conversation (online, with the required
skill, below `max_concurrent`):
1. VIP buyers go to agents with the `vip` skill first; any other able agent if none is free.
2. Sticky: the buyer's previous agent, when among them.
3. Otherwise the least loaded: lowest active/max_concurrent, then fewest active, then fewest
   assigned so far (spreads work evenly among equal agents), then agent id.
Nobody able → the conversation waits in the queue, ordered by priority (highest first) then
by waiting time (longest first), and is drained the moment capacity frees.

`busy` agents keep their conversations but take no new ones. An agent going `offline` hands
their open conversations back: they re-enter the queue at the head of their priority (they
keep the time they first waited from) and are drained to other agents at once; the buyer's
`last_agent_id` stays, so they return to that agent if it is free when they next need one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

PRIORITY = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
PRIORITY_NAME = {v: k for k, v in PRIORITY.items()}
SKILL_OF_STAGE = {"presale": "presale", "insale": "insale", "aftersale": "aftersale"}
VIP_SKILL = "vip"
SENIOR = "senior"
"""Abusive or threatening buyers, and escalations: the roster has no `senior` skill (the
platform's skills are presale/insale/aftersale/vip), so senior work goes to aftersale staff."""


def required_skill(stage_or_skill: str) -> str:
    """The roster skill a conversation needs: its stage; `senior` work goes to aftersale staff."""
    if stage_or_skill == SENIOR:
        return "aftersale"
    return SKILL_OF_STAGE.get(stage_or_skill, "presale")


@dataclass(frozen=True)
class AgentLoad:
    agent_id: str
    status: str
    skills: frozenset[str]
    max_concurrent: int
    active: int
    assigned_total: int = 0

    @property
    def free(self) -> int:
        return self.max_concurrent - self.active

    def can_take(self, skill: str) -> bool:
        return self.status == "online" and skill in self.skills and self.free > 0

    def took_one(self) -> AgentLoad:
        return replace(self, active=self.active + 1, assigned_total=self.assigned_total + 1)


@dataclass(frozen=True)
class Waiting:
    """A conversation in the queue."""

    conversation_id: str
    skill: str
    priority: int
    queued_at: datetime
    vip: bool = False
    last_agent_id: str | None = None


def choose_agent(
    agents: Iterable[AgentLoad],
    skill: str,
    *,
    vip: bool = False,
    previous: str | None = None,
) -> AgentLoad | None:
    if skill == SENIOR:
        skill = required_skill(skill)
    able = [a for a in agents if a.can_take(skill)]
    if vip:
        able = [a for a in able if VIP_SKILL in a.skills] or able
    if not able:
        return None
    sticky = next((a for a in able if a.agent_id == previous), None)
    if sticky is not None:
        return sticky
    return min(
        able, key=lambda a: (a.active / a.max_concurrent, a.active, a.assigned_total, a.agent_id)
    )


def queue_room(agents: Iterable[AgentLoad]) -> dict[str, int]:
    """How far into the queue of each stored skill one drain can reach: the free capacity of
    the online agents able to serve it.

    A drain assigns in queue order and each assignment uses up capacity that only shrinks as
    it goes, so past this many conversations of a skill nobody can be assigned by it: the rest
    need not be read (a shop with thousands waiting and one free seat reads one row).
    """
    free: dict[str, int] = {}
    for a in agents:
        if a.status == "online" and a.free > 0:
            for skill in a.skills:
                free[skill] = free.get(skill, 0) + a.free
    stored = (*SKILL_OF_STAGE, SENIOR)
    return {s: free[required_skill(s)] for s in stored if required_skill(s) in free}


def queue_order(waiting: Iterable[Waiting]) -> list[Waiting]:
    return sorted(waiting, key=lambda w: (-w.priority, w.queued_at, w.conversation_id))


def drain(waiting: Sequence[Waiting], agents: Iterable[AgentLoad]) -> list[tuple[Waiting, str]]:
    """Who gets which waiting conversation now, best priority and longest wait first.

    A conversation nobody can take is skipped, so one needing a busy skill does not block the
    ones behind it that others can serve.
    """
    return assign_in_order(queue_order(waiting), agents)


def assign_in_order(
    waiting: Sequence[Waiting], agents: Iterable[AgentLoad]
) -> list[tuple[Waiting, str]]:
    """Who gets which conversation, in the order given (presale's batch routes the hand-offs
    of a batch by priority, then in the order their messages came); nobody over capacity."""
    loads = {a.agent_id: a for a in agents}
    plan: list[tuple[Waiting, str]] = []
    for w in waiting:
        agent = choose_agent(loads.values(), w.skill, vip=w.vip, previous=w.last_agent_id)
        if agent is None:
            continue
        plan.append((w, agent.agent_id))
        loads[agent.agent_id] = agent.took_one()
    return plan
