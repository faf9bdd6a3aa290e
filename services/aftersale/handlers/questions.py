"""`cs.message.classified.v1`: what a buyer's question needs loaded, and the flow answering it."""

from __future__ import annotations

from services.aftersale.domain import questions
from services.aftersale.domain.effects import Turn
from services.aftersale.store.book import Wants
from shared.contracts import EventPayload, MessageClassified

TOPICS = ("cs.message.classified.v1",)


def want(w: Wants, p: EventPayload) -> None:
    if not isinstance(p, MessageClassified):
        return
    buyer = (p.shop_id, p.buyer_id)
    w.buyers.add(buyer)  # the conversation is remembered for every stage
    if p.stage != "aftersale":
        return
    order_id = questions.question_order_id(p)
    if order_id:
        w.order_ids.add(order_id)
    else:
        w.latest_order_of.add(buyer)


def decide(t: Turn, p: EventPayload, cause: str) -> None:
    if not isinstance(p, MessageClassified):
        raise TypeError(f"not a classified message: {type(p).__name__}")
    questions.message_classified(t, p, cause)
