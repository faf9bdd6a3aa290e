"""The shop's human agents: roster and shifts (planned), and how they answer (reactive).

The roster and the online/busy/offline timeline are pure functions of the seed, so they live in
the plan. `AgentDesk` is the reactive half: it holds the conversations presale assigned to
each agent and produces their replies after a human delay; the runner owns the timing and I/O.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from shared.contracts import ConversationAssigned, MessageReceived, MessageSent
from shared.ids import new_id
from simulator import gaps, texts

_NAMES: tuple[tuple[str, str], ...] = (
    ("xiaomei", "小美"), ("ahua", "阿华"), ("xiaoyu", "小雨"), ("dandan", "丹丹"),
    ("lele", "乐乐"), ("tiantian", "甜甜"), ("mumu", "木木"), ("xiaoqi", "小七"),
    ("ajie", "阿杰"), ("nannan", "楠楠"),
)  # fmt: skip

# (name, start, end, break start, break minutes, break status)
_SHIFTS: tuple[tuple[str, time, time, time, int, str], ...] = (
    ("early", time(8, 30), time(17, 30), time(12, 0), 60, "offline"),
    ("day", time(9, 0), time(21, 0), time(12, 30), 40, "busy"),
    ("late", time(13, 30), time(23, 59), time(18, 0), 40, "busy"),
)


@dataclass(frozen=True)
class AgentProfile:
    agent_id: str
    name: str
    skills: tuple[str, ...]
    max_concurrent: int
    shift: str


def roster(rng: random.Random) -> tuple[AgentProfile, ...]:
    """6–10 agents; every skill is covered by at least one of them."""
    count = rng.randint(6, 10)
    picked = rng.sample(_NAMES, count)
    profiles: list[AgentProfile] = []
    for i, (slug, name) in enumerate(picked):
        skills = ["presale"]
        if i % 3 == 1 or rng.random() < 0.3:
            skills.append("insale")
        if i % 3 == 2 or rng.random() < 0.2:
            skills.append("aftersale")
        if i == 0 or rng.random() < 0.15:
            skills.append("vip")
        shift = _SHIFTS[i % len(_SHIFTS)][0]
        profiles.append(
            AgentProfile(f"agent-{slug}", name, tuple(skills), rng.randint(3, 8), shift)
        )
    return tuple(profiles)


def status_timeline(
    profile: AgentProfile, start: datetime, end: datetime, tz: tzinfo, rng: random.Random
) -> list[tuple[datetime, str]]:
    """(time, status) changes for one agent from before `start` to `end`, shift by shift.

    The first entry is at or before `start` so the caller knows the state when the window opens.
    """
    _, on, off, brk, brk_min, brk_status = next(s for s in _SHIFTS if s[0] == profile.shift)
    out: list[tuple[datetime, str]] = [(start - timedelta(days=2), "offline")]
    day = (start - timedelta(days=1)).astimezone(tz).date()
    while True:
        base = datetime.combine(day, time(0), tz)
        if base > end:
            break

        def at(t: time, jitter: int, base: datetime = base) -> datetime:
            moment = base + timedelta(hours=t.hour, minutes=t.minute)
            return moment + timedelta(minutes=rng.randint(-jitter, jitter))

        begin = at(on, 10)
        pause = at(brk, 10)
        resume = pause + timedelta(minutes=brk_min + rng.randint(-5, 15))
        finish = min(at(off, 15), base + timedelta(hours=23, minutes=59))
        out += [(begin, "online"), (pause, brk_status), (resume, "online")]
        if rng.random() < 0.35:  # a short busy spell in the afternoon (meeting, stock check)
            busy = at(time(15, 0), 60)
            out += [(busy, "busy"), (busy + timedelta(minutes=rng.randint(10, 30)), "online")]
        out.append((finish, "offline"))
        day += timedelta(days=1)
    out.sort(key=lambda p: p[0])
    return out


def human_delay(rng: random.Random) -> timedelta:
    """Lognormal around a minute; about one reply in ten takes more than three minutes."""
    seconds = rng.lognormvariate(math.log(50), 0.55)
    if rng.random() < 0.08:
        seconds += rng.uniform(180, 600)
    return timedelta(seconds=max(8.0, seconds))


@dataclass
class AgentDesk:
    """Which agent holds which conversation, and what the buyer last asked there."""

    shop_id: str
    profiles: dict[str, AgentProfile]
    rng: random.Random
    held: dict[str, str] = field(default_factory=dict)
    last_intent: dict[str, str | None] = field(default_factory=dict)
    last_gap: dict[str, str | None] = field(default_factory=dict)
    buyer_of: dict[str, str] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    replies: int = 0

    def on_buyer_message(
        self, msg: MessageReceived, intent: str | None, gap: str | None = None
    ) -> str | None:
        """Record a published buyer message; returns the agent who must answer it, if any.
        `gap`: the planted gap it asks (agents answer those consistently, `simulator.gaps`)."""
        self.last_intent[msg.conversation_id] = intent
        self.last_gap[msg.conversation_id] = gap
        self.buyer_of[msg.conversation_id] = msg.buyer_id
        agent = self.held.get(msg.conversation_id)
        return self._claim(msg.conversation_id) if agent else None

    def on_assigned(self, event: ConversationAssigned) -> str | None:
        self.held[event.conversation_id] = event.agent_id
        if event.buyer_id:
            self.buyer_of.setdefault(event.conversation_id, event.buyer_id)
        return self._claim(event.conversation_id)

    def on_closed(self, conversation_id: str) -> None:
        self.held.pop(conversation_id, None)

    def _claim(self, conversation_id: str) -> str | None:
        """One pending reply per conversation: an agent answers a burst of messages at once."""
        if conversation_id in self.pending:
            return None
        self.pending.add(conversation_id)
        return self.held[conversation_id]

    def reply(self, conversation_id: str, agent_id: str, now: datetime) -> MessageSent | None:
        self.pending.discard(conversation_id)
        buyer = self.buyer_of.get(conversation_id)
        if buyer is None:
            return None
        profile = self.profiles.get(agent_id)
        planted = gaps.BY_KEY.get(self.last_gap.get(conversation_id) or "")
        if planted is not None:  # a planted gap: agents answer it consistently
            text = gaps.agent_answer(planted, self.rng)
        elif self.rng.random() < texts.SLIP_RATE:  # agents sometimes break a quality rule
            text = self.rng.choice(texts.AGENT_SLIPS)
        else:
            text = texts.agent_reply(
                self.last_intent.get(conversation_id), self.rng, profile.name if profile else "小二"
            )
        self.replies += 1
        return MessageSent(
            shop_id=self.shop_id,
            message_id=new_id(),
            conversation_id=conversation_id,
            buyer_id=buyer,
            sender_kind="agent",
            sender_id=agent_id,
            text=text,
            sent_at=now,
        )
