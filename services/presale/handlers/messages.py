"""Buyer messages a batch at a time, on the shared batch pattern (shared/batch.py).

- load: the batch's conversations (one locked query) and each shop's current KB (one query
  for the versions; parsed KBs come from an in-process cache keyed by version);
- decide: `domain.conversation.on_message` per message, in order; events as effects;
- settle: hand-offs routed once per shop — the shop locked once (`store.agents.lock_shops`),
  every hand-off of the batch assigned by priority then arrival, nobody over capacity — and
  the buyer told whether an agent has it or it waits;
- save: the changed conversations in one statement, new assignment totals in one, and the
  questions the bot did not answer (the insight loop's gaps, `store.gaps`) in one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain import replies, routing
from services.presale.domain.buyer_context import OrderBook
from services.presale.domain.conversation import Conversation, on_message
from services.presale.domain.coverage import gap_reason
from services.presale.domain.decisions import Handoff, Reply
from services.presale.domain.gaps import GapAnswer, Unanswered, unanswered
from services.presale.domain.routing import Waiting
from services.presale.handlers.effects import SESSION_IDLE, assigned, reply
from services.presale.store import agents, conversations, gaps
from services.presale.store.kb import KbCache, KbVersion
from shared.batch import Decided, Decision, Item
from shared.contracts import MessageClassified, MessageReceived
from shared.effects import Effects


@dataclass
class Loaded:
    """A batch's working state."""

    conversations: dict[str, Conversation]
    kbs: dict[str, KbVersion | None]
    changed: set[str] = field(default_factory=set)
    assignments: Counter[str] = field(default_factory=Counter)
    orders: OrderBook = field(default_factory=OrderBook)
    """The buyers' latest orders, when order events are consumed (`order_feed`)."""
    gaps: list[Unanswered] = field(default_factory=list)
    """Questions the bot did not answer (the insight loop's gaps, `store.gaps`)."""
    answers: list[GapAnswer] = field(default_factory=list)
    """Agents' messages, each the answer to a gap if one is waiting (`agent_messages`)."""


@dataclass(frozen=True)
class Pending:
    """A hand-off decided for a message, waiting for the batch's routing."""

    conversation_id: str
    message_id: str
    event_id: str


MessageChanges = tuple[Conversation, Pending | None, Unanswered | None]
"""The conversation, its hand-off waiting for routing, its gap (a question not answered)."""


class MessageBatch:
    """`BatchLogic` for `cs.message.received.v1`."""

    topics = ("cs.message.received.v1",)

    def __init__(self, session_gap: timedelta, kbs: KbCache | None = None) -> None:
        self.session_gap = session_gap
        self.kbs = kbs or KbCache()

    async def load(self, conn: AsyncConnection, items: Sequence[Item]) -> Loaded:
        """The conversations of every item (buyer messages, and the messages sent to buyers
        that share the batch, `agent_messages`); the KBs of the buyer messages' shops."""
        loaded = await conversations.load_conversations(conn, {_conversation_id(i) for i in items})
        shops = {_message(i).shop_id for i in items if i.topic in self.topics}
        kbs = await self.kbs.current_many(conn, shops)
        return Loaded(loaded, kbs)

    def decide(self, state: Loaded, item: Item, now: datetime) -> Decision[MessageChanges]:
        m = _message(item)
        kb = state.kbs.get(m.shop_id)
        out = on_message(
            state.conversations.get(m.conversation_id),
            conversation_id=m.conversation_id, shop_id=m.shop_id, buyer_id=m.buyer_id,
            buyer_level=m.buyer_level, text=m.text, item_id=m.item_id, sent_at=m.sent_at,
            kb=kb.kb if kb else None, now=now, session_gap=self.session_gap,
            order=state.orders.phase(m.shop_id, m.buyer_id, now),
        )  # fmt: skip
        conv, u, effects = out.conversation, out.understanding, Effects()
        effects.arm(SESSION_IDLE, conv.conversation_id, out.idle_due, replace=True)
        effects.emit(
            MessageClassified(
                shop_id=m.shop_id, message_id=m.message_id, conversation_id=m.conversation_id,
                buyer_id=m.buyer_id, intent=u.intent, confidence=u.confidence, stage=u.stage,
                secondary_intents=list(u.secondary_intents), sentiment=u.sentiment,
                entities=u.entities, text_masked=out.text_masked, item_id=m.item_id,
                order_id=m.order_id, buyer_level=m.buyer_level, sent_at=m.sent_at,
                classified_at=now, risk_flags=list(out.risk_flags),
            )
        )  # fmt: skip
        effects.count(f"intent_{u.intent}")
        for flag in out.risk_flags:
            effects.count(f"risk_{flag}")
        pending = None
        reason = gap_reason(u, out.decision)
        gap = unanswered(m, u, reason, out.text_masked) if reason else None
        if isinstance(out.decision, Reply):
            effects.emit(reply(conv, m.message_id, item.envelope.id, out.decision.text,
                                out.decision.kind, kb.version if kb else None, now))  # fmt: skip
            effects.count("auto_reply")
        elif isinstance(out.decision, Handoff):
            effects.count(f"handoff_{out.decision.reason}")
            pending = Pending(conv.conversation_id, m.message_id, item.envelope.id)
        return Decision((conv, pending, gap), effects)

    def apply(self, state: Loaded, decision: Decision[MessageChanges]) -> None:
        conv, _, gap = decision.changes
        state.conversations[conv.conversation_id] = conv
        state.changed.add(conv.conversation_id)
        if gap is not None:
            state.gaps.append(gap)

    async def settle(
        self,
        conn: AsyncConnection,
        state: Loaded,
        decided: Sequence[Decided[MessageChanges]],
        now: datetime,
    ) -> None:
        """Route every hand-off of the batch: one lock of each shop (its agents read), then by
        priority (highest first) and arrival; tell each buyer what happened."""
        handoffs = [x for x in decided if x.decision.changes[1] is not None]
        if not handoffs:
            return
        by_shop: dict[str, list[Decided[MessageChanges]]] = {}
        for x in handoffs:
            by_shop.setdefault(x.decision.changes[0].shop_id, []).append(x)
        loads = await agents.lock_agent_loads(conn, by_shop)
        for shop, group in by_shop.items():
            waiting = []
            for x in group:
                c = state.conversations[x.decision.changes[0].conversation_id]
                waiting.append(Waiting(c.conversation_id, c.skill or "presale", c.priority,
                                       now, vip=c.vip, last_agent_id=c.last_agent_id))  # fmt: skip
            ordered = sorted(waiting, key=lambda w: -w.priority)  # stable: arrival order kept
            plan = dict((w.conversation_id, agent) for w, agent in
                        routing.assign_in_order(ordered, loads.get(shop, [])))  # fmt: skip
            kb = state.kbs.get(shop)
            tone = kb.kb.tone if kb else replies.DEFAULT_TONE
            for x in group:
                pending = x.decision.changes[1]
                assert pending is not None
                effects = x.decision.effects
                conv = state.conversations[pending.conversation_id]
                agent_id = plan.get(conv.conversation_id)
                if agent_id is not None:
                    conv = self._assign(state, conv, agent_id, now, effects)
                    notice = replies.HANDOFF_NOTICE
                else:
                    effects.count("queued")
                    notice = replies.QUEUED_NOTICE
                effects.emit(reply(conv, pending.message_id, pending.event_id,
                                    replies.render(tone, notice), "handoff_notice",
                                    kb.version if kb else None, now))  # fmt: skip

    def _assign(
        self, state: Loaded, conv: Conversation, agent_id: str, now: datetime, effects: Effects
    ) -> Conversation:
        active_from = max(now, conv.last_activity_at)  # a fresh assignment is not idle
        conv = replace(
            conv, state="assigned", agent_id=agent_id, last_agent_id=agent_id, queued_at=None,
            last_activity_at=active_from,
        )  # fmt: skip
        state.conversations[conv.conversation_id] = conv
        state.assignments[agent_id] += 1
        effects.arm(SESSION_IDLE, conv.conversation_id, active_from + self.session_gap,
                    replace=True)  # fmt: skip
        effects.emit(
            assigned(conv, agent_id, now, skill=conv.skill or "presale", priority=conv.priority,
                     reason=conv.reason or "presale")
        )  # fmt: skip
        effects.count("assigned")
        return conv

    async def save(self, conn: AsyncConnection, state: Loaded) -> None:
        await conversations.save_conversations(
            conn, [state.conversations[c] for c in sorted(state.changed)]
        )
        await agents.count_assignments(conn, state.assignments)
        await gaps.save_gaps(conn, state.gaps)
        await gaps.link_replies(conn, state.answers)  # after the gaps: one may answer them


def _conversation_id(item: Item) -> str:
    conversation_id = getattr(item.payload, "conversation_id", None)
    assert isinstance(conversation_id, str)
    return conversation_id


def _message(item: Item) -> MessageReceived:
    assert isinstance(item.payload, MessageReceived)
    return item.payload
