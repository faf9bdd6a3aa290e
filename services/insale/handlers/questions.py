"""Buyers' classified messages, a batch at a time (`cs.message.classified.v1`).

Every classified message, whatever its stage, tells where the buyer talks to the shop:
insale's own messages go to that conversation. A question of stage `insale` is answered from
the projection (`domain.questions`), and handed to an insale agent when a person must act.
"""

from __future__ import annotations

from datetime import datetime

from services.insale.domain.orders import Order
from services.insale.domain.questions import Question, named_order, on_question, recent_orders
from services.insale.domain.rules import InsaleRules
from services.insale.handlers.effects import SERVICE
from services.insale.handlers.state import Changes, Loaded
from shared.batch_logic import Decision
from shared.contracts import HandoffRequested, MessageClassified, ReplyRequested
from shared.conversations import BuyerConversation, remember
from shared.effects import Effects
from shared.ids import derived_id


def named_id(m: MessageClassified) -> str | None:
    return m.order_id or m.entities.order_id


def message_classified(
    state: Loaded, m: MessageClassified, event_id: str, now: datetime, rules: InsaleRules
) -> Decision[Changes]:
    buyer = (m.shop_id, m.buyer_id)
    heard = BuyerConversation(m.shop_id, m.buyer_id, m.conversation_id, m.sent_at)
    changes = Changes(conversation=remember(state.conversations.get(buyer), heard))
    if m.stage != "insale":
        return Decision(changes)
    q = Question(m.shop_id, m.buyer_id, m.intent, named_id(m), m.text_masked)
    stored = state.asked.get(buyer, [])
    recent = recent_orders(stored, state.changed_orders_of(buyer), q, rules.recent_limit)
    named = named_order(q, _find(state, q.named_id)) if q.named_id else None
    answered = on_question(q, named, recent, now, rules)
    reply, order, effects = answered.answer, answered.order, Effects()
    effects.emit(
        ReplyRequested(
            shop_id=m.shop_id, reply_request_id=derived_id(event_id, "reply"),
            conversation_id=m.conversation_id, buyer_id=m.buyer_id, in_reply_to=m.message_id,
            text=reply.text, kind=reply.kind, sender="bot", requested_by=SERVICE,
            order_id=reply.order_id, requested_at=now,
        )
    )  # fmt: skip
    effects.count(f"answer_{m.intent}")
    if reply.handoff is not None and order is not None and answered.summary is not None:
        effects.emit(
            HandoffRequested(
                shop_id=m.shop_id, handoff_id=derived_id(event_id, "handoff"),
                conversation_id=m.conversation_id, buyer_id=m.buyer_id, skill="insale",
                priority=reply.handoff.priority, reason=reply.handoff.reason,
                summary=answered.summary, order_id=order.order_id, requested_by=SERVICE,
                requested_at=now,
            )
        )  # fmt: skip
        effects.count(f"handoff_{reply.handoff.priority}")
    return Decision(changes, effects)


def _find(state: Loaded, order_id: str | None) -> Order | None:
    """The latest version of an order: decided in this batch, else as stored."""
    if order_id is None:
        return None
    return state.orders.get(order_id) or state.named.get(order_id)
