"""A buyer's in-sale question: which order it is about, and the answer. Pure.

The order is the one named (only if it is the buyer's in this shop), else the buyer's only
open order among the most recent ones; otherwise insale asks which one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.insale.domain import answers, texts
from services.insale.domain.answers import Answer
from services.insale.domain.orders import Order
from services.insale.domain.rules import InsaleRules


@dataclass(frozen=True)
class Question:
    shop_id: str
    buyer_id: str
    intent: str
    named_id: str | None
    text_masked: str


@dataclass(frozen=True)
class Answered:
    answer: Answer
    order: Order | None
    summary: str | None
    """The hand-off's summary for the agent, when the question is handed off."""


def recent_orders(
    stored: Sequence[Order], in_batch: Iterable[Order], q: Question, limit: int
) -> list[Order]:
    """The buyer's `limit` most recent orders in the shop (newest first): `stored` as the
    database ordered them, with the versions decided earlier in this batch (and new orders)
    taking their place."""
    newer = {o.order_id: o for o in in_batch if o.shop_id == q.shop_id and o.buyer_id == q.buyer_id}
    merged = [newer.pop(o.order_id, o) for o in stored]
    merged += sorted(newer.values(), key=lambda o: o.order_id)
    # Stable: ties on created_at keep the database's order.
    merged.sort(
        key=lambda o: (o.created_at is None, -o.created_at.timestamp() if o.created_at else 0)
    )
    return merged[:limit]


def named_order(q: Question, found: Order | None) -> Order | None:
    """Only the buyer's own order in this shop: never reveal (or touch) another's."""
    if found is None or found.shop_id != q.shop_id or found.buyer_id != q.buyer_id:
        return None
    return found


def on_question(
    q: Question, named: Order | None, recent: Sequence[Order], now: datetime, rules: InsaleRules
) -> Answered:
    order = answers.pick_order(q.named_id, named, recent)
    reply = answers.answer(q.intent, order, recent, now, rules.ship, rules.tz)
    if reply.handoff is None or order is None:
        return Answered(reply, order, None)
    state = texts.STATUS_TEXT.get(order.status or "", "未知")
    summary = f"[{q.intent}] 订单{order.order_id}（{state}）：{q.text_masked}"[:500]
    return Answered(reply, order, summary)
