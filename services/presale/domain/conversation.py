"""A conversation as presale decides on it, and what one buyer message does to it. Pure.

`on_message` is the whole per-message decision: reopen or create the conversation, move its
activity time forward, understand the text with the recent history and what is known of the
buyer (the order's phase, the conversation's stage: `buyer_context`), remember what it told,
and — when the bot has the conversation — answer it, stay silent, or ask for a human. Who
that human is is decided later for the whole batch (`routing.assign_in_order`).

Buyer-side risks (`nlu/risk.py`) are found beside the classification: an abusive or
threatening message takes the conversation to a `senior` agent at high priority, from the
bot, from the queue, or from the agent who has it (unless a senior one already does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from services.presale.domain.answers import decide
from services.presale.domain.buyer_context import buyer_context, next_stage
from services.presale.domain.decisions import Decision, Handoff, Memory, Reply, Silent
from services.presale.domain.kb import KnowledgeBase
from services.presale.domain.nlu import Understanding, understand
from services.presale.domain.nlu.context import OrderPhase
from services.presale.domain.nlu.risk import buyer_risks, escalation
from services.presale.domain.routing import PRIORITY, SENIOR
from shared.contracts.emitted import Stage
from shared.masking import mask

RECENT_TEXTS = 5


@dataclass(frozen=True)
class Conversation:
    """One buyer–shop pair; `state`: bot | queued | assigned | closed."""

    conversation_id: str
    shop_id: str
    buyer_id: str
    state: str
    last_activity_at: datetime
    buyer_level: str | None = None
    agent_id: str | None = None
    skill: str | None = None
    priority: int = 0
    reason: str | None = None
    queued_at: datetime | None = None
    last_agent_id: str | None = None
    recent_texts: tuple[str, ...] = ()
    memory: Mapping[str, Any] = field(default_factory=dict)
    stage: Stage | None = None
    """The conversation's stage so far (`buyer_context.next_stage`); kept across sessions."""

    @property
    def vip(self) -> bool:
        return self.buyer_level == "vip"

    def sent_to(self, at: datetime) -> Conversation | None:
        """A message was sent to the buyer: an open session stays alive until SESSION_GAP
        after it. None when nothing changes (a closed conversation, an older message)."""
        if self.state == "closed" or at <= self.last_activity_at:
            return None
        return replace(self, last_activity_at=at)

    def touched(self, buyer_level: str | None, at: datetime) -> Conversation:
        """A buyer wrote: a closed conversation reopens with the bot; time only moves on."""
        return replace(
            self,
            last_activity_at=max(self.last_activity_at, at),
            buyer_level=buyer_level or self.buyer_level,
            state="bot" if self.state == "closed" else self.state,
        )


@dataclass(frozen=True)
class MessageOutcome:
    conversation: Conversation
    understanding: Understanding
    decision: Decision | None
    """None when a human has the conversation (assigned or queued): the bot keeps out."""
    idle_due: datetime
    text_masked: str = ""
    """The message's text, masked (as kept in `recent_texts`): masked once per message."""
    risk_flags: tuple[str, ...] = ()


def on_message(
    conv: Conversation | None,
    *,
    conversation_id: str,
    shop_id: str,
    buyer_id: str,
    buyer_level: str | None,
    text: str,
    item_id: str | None,
    sent_at: datetime,
    kb: KnowledgeBase | None,
    now: datetime,
    session_gap: timedelta,
    order: OrderPhase | None = None,
) -> MessageOutcome:
    """What one buyer message does. A hand-off leaves the conversation `queued` with its skill,
    priority and reason; routing may then assign it. `order`: the phase of the buyer's latest
    order, None when unknown."""
    if conv is None:
        conv = Conversation(conversation_id, shop_id, buyer_id, "bot", sent_at, buyer_level)
    else:
        conv = conv.touched(buyer_level, sent_at)
    idle_due = conv.last_activity_at + session_gap
    history = list(conv.recent_texts)
    u = understand(text, history, buyer_context(order, conv.stage))
    risks = buyer_risks(text)
    memory = Memory.restore(conv.memory).heard(item_id, u.entities)
    masked = mask(text)
    texts = (*history, masked)[-RECENT_TEXTS:]
    conv = replace(conv, stage=next_stage(conv.stage, u.intent))
    with_senior = conv.skill == SENIOR and conv.state in ("assigned", "queued")
    escalate = None if with_senior else escalation(risks)
    if escalate is not None:
        decision: Decision = Handoff(escalate, "high", memory)
    elif conv.state in ("assigned", "queued"):  # a human has it, or will have it soon
        return MessageOutcome(
            replace(conv, recent_texts=texts, memory=memory.stored()),
            u,
            None,
            idle_due,
            text_masked=masked,
            risk_flags=risks,
        )
    else:
        decision = decide(u, text, memory, kb, now, vip=conv.vip)
    if isinstance(decision, Handoff) and escalate is not None:
        conv = replace(
            conv,
            recent_texts=texts,
            memory=decision.memory.stored(),
            state="queued",
            agent_id=None,
            skill=SENIOR,
            priority=max(conv.priority, PRIORITY[decision.priority]),
            reason=f"presale:{decision.reason}",
            queued_at=now,
        )
    elif isinstance(decision, Handoff):
        conv = replace(
            conv,
            recent_texts=texts,
            memory=decision.memory.stored(),
            state="queued",
            agent_id=None,
            skill="presale",
            priority=PRIORITY[decision.priority],
            reason=f"presale:{decision.reason}",
            queued_at=now,
        )
    else:
        conv = replace(conv, recent_texts=texts, memory=decision.memory.stored())
    return MessageOutcome(conv, u, decision, idle_due, text_masked=masked, risk_flags=risks)


__all__ = ["Conversation", "Handoff", "MessageOutcome", "Reply", "Silent", "on_message"]
