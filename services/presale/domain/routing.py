"""Choosing a human agent for a conversation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AgentLoad:
    agent_id: str
    status: str
    skills: frozenset[str]
    max_concurrent: int
    active: int

    @property
    def free(self) -> int:
        return self.max_concurrent - self.active

    def can_take(self, skill: str) -> bool:
        return self.status == "online" and skill in self.skills and self.free > 0


def choose_agent(agents: Iterable[AgentLoad], skill: str) -> AgentLoad | None:
    """The least loaded online agent with the skill and spare capacity (ties: agent id)."""
    able = [a for a in agents if a.can_take(skill)]
    if not able:
        return None
    return min(able, key=lambda a: (a.active / a.max_concurrent, a.active, a.agent_id))
