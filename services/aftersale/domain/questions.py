"""Buyers' after-sale questions (routed by presale), answered from their actual order."""

from __future__ import annotations

from services.aftersale.domain.answers import OpenCase, answer
from services.aftersale.domain.effects import Turn
from services.aftersale.domain.model import Conversation, Order, Signal
from services.aftersale.domain.risk import threat_words
from shared.contracts import HandoffRequested, MessageClassified, ReplyRequested
from shared.conversations import remember
from shared.ids import derived_id

SERVICE = "aftersale"


def question_order_id(m: MessageClassified) -> str | None:
    """The order the buyer wrote from or named (None: their latest order is meant)."""
    return m.order_id or m.entities.order_id


def message_classified(t: Turn, m: MessageClassified, cause: str) -> None:
    buyer = (m.shop_id, m.buyer_id)
    heard = Conversation(m.shop_id, m.buyer_id, m.conversation_id, m.sent_at)
    kept = remember(t.v.conversation(buyer), heard)
    if kept is not None:
        t.v.put_conversation(kept)
    if m.stage != "aftersale":
        return
    for word in threat_words(m.text_masked):
        t.v.add_signal(
            Signal(m.shop_id, m.buyer_id, "threat", f"{m.message_id}:{word}", m.sent_at, word)
        )
    order_id = question_order_id(m)
    order: Order | None
    if order_id:
        order = t.v.order(order_id)
        if order is not None and order.shop_id != m.shop_id:
            order = None  # an order id a buyer typed may name another shop's order
    else:
        order = latest_order(t, m.shop_id, m.buyer_id)
    if order is not None and order.buyer_id != m.buyer_id:
        order = None  # never tell a buyer about someone else's order
    open_case = category = None
    rules = t.cfg.rules.for_shop(m.shop_id)
    if order is not None:
        refund_cases = [
            c for c in t.v.cases_of_order(order.order_id)
            if c.shop_id == m.shop_id and c.is_open_refund
        ]  # fmt: skip
        if refund_cases:
            c = max(refund_cases, key=lambda c: c.opened_at)
            assert c.refund_id is not None
            open_case = OpenCase(c.refund_id, c.refund_status or "", c.decision, c.deadline)
        found = {t.v.category(m.shop_id, item) for item in order.item_ids}
        cats = sorted(c for c in found if c is not None)
        category = next((c for c in cats if c in rules.ineligible_categories), None) or (
            cats[0] if cats else None
        )
    a = answer(m.intent, order.facts() if order else None, open_case, category, t.now, rules,
               t.cfg.tz)  # fmt: skip
    if a.text:
        t.out.emit(
            ReplyRequested(
                shop_id=m.shop_id, reply_request_id=derived_id(cause, "reply"),
                conversation_id=m.conversation_id, buyer_id=m.buyer_id,
                in_reply_to=m.message_id, text=a.text, kind=a.kind, requested_by=SERVICE,
                order_id=order.order_id if order else None, requested_at=t.now,
            )
        )  # fmt: skip
        t.out.count("auto_reply")
    if a.handoff_priority:
        t.out.emit(
            HandoffRequested(
                shop_id=m.shop_id, handoff_id=derived_id(cause, "handoff"),
                conversation_id=m.conversation_id, buyer_id=m.buyer_id, skill="aftersale",
                priority=a.handoff_priority, reason=f"intent:{m.intent}",
                summary=f"{a.why};买家原话(已脱敏):{m.text_masked[:200]}",
                order_id=order.order_id if order else m.order_id,
                refund_id=open_case.refund_id if open_case else None,
                requested_by=SERVICE, requested_at=t.now,
            )
        )  # fmt: skip
        t.out.count("handoff")


def latest_order(t: Turn, shop_id: str, buyer_id: str) -> Order | None:
    """The buyer's most recently created order in the shop."""
    orders = t.v.orders_of((shop_id, buyer_id))
    return max(orders, key=lambda o: o.created_at) if orders else None
