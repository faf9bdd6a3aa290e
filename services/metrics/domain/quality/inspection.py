"""A conversation's quality flags, its per-agent session scores and its agents' exposure to
risky buyers, from its facts. Pure, like `domain/conversation.derive`: the same facts give the
same rows whatever order they arrived in, so a replay equals the live state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.metrics.domain.conversation import Assignments
from services.metrics.domain.model import BOT, UNASSIGNED, Assignment, Round, Session, Touch
from services.metrics.domain.quality.score import score
from shared.ids import derived_id

SLOW_REPLY_US = 180 * 1_000_000
"""An agent's answer more than 3 minutes (business time) after the buyer is a slow reply."""
SLOW_RULE = "slow_reply.3min"
SLOW_SUGGESTION = "3分钟内回复买家；需要时间查询时先告知买家稍等"


@dataclass(frozen=True)
class ViolationFact:
    message_id: str
    agent_id: str
    rule_id: str
    category: str
    severity: str
    start: int
    end: int
    suggestion: str
    rules_version: str
    at: datetime


@dataclass(frozen=True)
class RiskFact:
    message_id: str
    flags: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Flag:
    flag_id: str
    agent_id: str
    message_id: str | None
    category: str
    rule_id: str
    severity: str
    start: int | None
    end: int | None
    suggestion: str
    rules_version: str
    response_us: int | None
    at: datetime
    session_start: datetime | None


@dataclass(frozen=True)
class SessionScore:
    session_start: datetime
    agent_id: str
    replies: int
    flags: int
    score: int
    failed: bool


@dataclass(frozen=True)
class Exposure:
    message_id: str
    flag: str
    agent_id: str
    at: datetime


def flags(
    shop_id: str,
    conversation_id: str,
    violations: Iterable[ViolationFact],
    rounds: Iterable[Round],
    touches: Sequence[Touch],
    rules_version: str,
) -> list[Flag]:
    """The rules' findings, placed in their session, and every slow agent reply."""
    session_of = {t.message_id: t.session_start for t in touches}
    out = [
        Flag(
            derived_id(shop_id, v.message_id, v.rule_id, str(v.start)),
            v.agent_id,
            v.message_id,
            v.category,
            v.rule_id,
            v.severity,
            v.start,
            v.end,
            v.suggestion,
            v.rules_version,
            None,
            v.at,
            session_of.get(v.message_id),
        )
        for v in violations
    ]
    for r in rounds:
        if not r.answered or r.responder in (BOT, UNASSIGNED) or r.closed_at is None:
            continue
        if (r.response_us or 0) > SLOW_REPLY_US:
            out.append(
                Flag(
                    derived_id(shop_id, conversation_id, "slow_reply", r.opened_at.isoformat()),
                    r.responder, None, "slow_reply", SLOW_RULE, "warn", None, None,
                    SLOW_SUGGESTION, rules_version, r.response_us, r.closed_at, r.session_start,
                )
            )  # fmt: skip
    return sorted(out, key=lambda f: (f.at, f.flag_id))


def session_scores(
    touches: Iterable[Touch],
    found: Iterable[Flag],
    weights: Mapping[str, int],
    fail: Iterable[str],
) -> list[SessionScore]:
    """Each agent's part in each session: replies inspected, flags, score, failed."""
    replies: dict[tuple[datetime, str], int] = defaultdict(int)
    for t in touches:
        if t.responder != BOT:
            replies[(t.session_start, t.responder)] += 1
    categories: dict[tuple[datetime, str], list[str]] = defaultdict(list)
    for f in found:
        if f.session_start is not None:
            categories[(f.session_start, f.agent_id)].append(f.category)
    out = []
    for (start, agent), n in sorted(replies.items()):
        cats = categories.get((start, agent), [])
        s = score(cats, weights, fail)
        out.append(SessionScore(start, agent, n, len(cats), s.score, s.failed))
    return out


def exposures(
    risks: Iterable[RiskFact],
    sessions: Sequence[Session],
    assignments: Sequence[Assignment],
    touches: Sequence[Touch],
) -> list[Exposure]:
    """Who faced each flagged buyer message: the agent holding the conversation then, else
    the first agent who answered or was assigned later in the same session (they read it)."""
    assigned = Assignments(assignments)
    out = []
    for r in risks:
        agent = assigned.current_at(r.at)
        if agent is None:
            session = next((s for s in sessions if s.start <= r.at <= s.last_at), None)
            if session is not None:
                later = [
                    (t.at, t.responder)
                    for t in touches
                    if t.responder != BOT and r.at <= t.at and t.session_start == session.start
                ]
                later += [
                    (a.at, a.agent_id) for a in assignments if r.at <= a.at <= session.last_at
                ]
                agent = min(later)[1] if later else None
        if agent is not None:
            out += [Exposure(r.message_id, flag, agent, r.at) for flag in r.flags]
    return out
