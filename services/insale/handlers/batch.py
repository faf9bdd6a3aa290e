"""Insale's consumed topics on the shared batch pattern (`shared/batch.py`).

- load: the orders the trade events change (one locked query), the questioning buyers'
  recent and named orders (one query), and every buyer's latest conversation (one query);
- decide: per record, in order — `orders.order_changed`, `orders.logistics_updated`,
  `questions.message_classified`; pure, on the loaded state;
- save: the changed orders in one upsert, the conversations heard in one; timers and emitted
  events are written by the pattern from each decision's `Effects`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.insale import store
from services.insale.domain.rules import InsaleRules
from services.insale.handlers import orders, questions
from services.insale.handlers.state import Buyer, Changes, Loaded
from shared.batch_logic import Decided, Decision, Item
from shared.contracts import LogisticsUpdated, MessageClassified, OrderChanged

ORDER_CHANGED = "trade.order.changed.v1"
LOGISTICS_UPDATED = "trade.logistics.updated.v1"
MESSAGE_CLASSIFIED = "cs.message.classified.v1"


class InsaleBatch:
    """`BatchLogic` for every topic insale consumes."""

    topics = (ORDER_CHANGED, LOGISTICS_UPDATED, MESSAGE_CLASSIFIED)

    def __init__(self, rules: InsaleRules) -> None:
        self.rules = rules

    async def load(self, conn: AsyncConnection, items: Sequence[Item]) -> Loaded:
        trade: list[OrderChanged | LogisticsUpdated] = []
        asked: list[MessageClassified] = []
        for item in items:
            p = item.payload
            if isinstance(p, OrderChanged | LogisticsUpdated):
                trade.append(p)
            elif isinstance(p, MessageClassified):
                asked.append(p)
        locked = await store.lock_orders(conn, {e.order_id for e in trade})
        questioning = {(m.shop_id, m.buyer_id) for m in asked if m.stage == "insale"}
        named = {n for m in asked if m.stage == "insale" and (n := questions.named_id(m))}
        recent, found = await store.buyers_orders(conn, questioning, self.rules.recent_limit, named)
        buyers: set[Buyer] = {(m.shop_id, m.buyer_id) for m in asked}
        buyers |= {(e.shop_id, e.buyer_id) for e in trade if isinstance(e, OrderChanged)}
        for e in trade:  # an order keeps the buyer it first had (an order event sets its shop)
            known = locked.get(e.order_id)
            if known is not None and known.buyer_id is not None:
                buyers |= {(known.shop_id, known.buyer_id), (e.shop_id, known.buyer_id)}
        conversations = await store.load_conversations(conn, buyers)
        return Loaded(locked, conversations, asked=recent, named=found)

    def decide(self, state: Loaded, item: Item, now: datetime) -> Decision[Changes]:
        p = item.payload
        if isinstance(p, OrderChanged):
            return orders.order_changed(state, p, now, self.rules)
        if isinstance(p, LogisticsUpdated):
            return orders.logistics_updated(state, p, now, self.rules)
        if isinstance(p, MessageClassified):
            return questions.message_classified(state, p, item.envelope.id, now, self.rules)
        raise TypeError(f"insale does not consume {type(p).__name__}")

    def apply(self, state: Loaded, decision: Decision[Changes]) -> None:
        state.apply(decision.changes)

    async def settle(
        self,
        conn: AsyncConnection,
        state: Loaded,
        decided: Sequence[Decided[Changes]],
        now: datetime,
    ) -> None:
        """Nothing is decided across records."""

    async def save(self, conn: AsyncConnection, state: Loaded) -> None:
        await store.save_orders(conn, [state.orders[i] for i in sorted(state.changed)])
        await store.remember_conversations(conn, list(state.heard.values()))
