"""Presale's busy topics as one `BatchLogic`: buyer messages (`messages.MessageBatch`), the
messages sent to buyers (`agent_messages.SentMessages`) and order changes (`order_feed`), in
one batch and in record order, so each record sees what the records before it did.

- load: the batch's buyers' latest orders and their shops' feed start, then the conversations
  of every message (one query per table) and the KBs of the buyer messages' shops;
- decide / apply: per topic, by the flow that owns it;
- settle: the buyer messages' hand-offs, routed once per shop;
- save: conversations, assignment totals, gaps and their answers, latest orders: one bulk
  statement each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.handlers import agent_messages, order_feed
from services.presale.handlers.agent_messages import SentHeard, SentMessages
from services.presale.handlers.messages import Loaded, MessageBatch, MessageChanges
from services.presale.handlers.order_feed import OrderHeard
from services.presale.store import buyer_orders
from shared.batch import Decided, Decision, Item

Changes = MessageChanges | SentHeard | OrderHeard


class FrontDesk:
    """`BatchLogic` for `cs.message.received.v1`, `cs.message.sent.v1` and
    `trade.order.changed.v1`."""

    def __init__(self, messages: MessageBatch, order_window: timedelta) -> None:
        self.messages = messages
        self.sent = SentMessages(messages.session_gap)
        self.order_window = order_window
        self.topics: Sequence[str] = (
            *messages.topics,
            agent_messages.TOPIC,
            order_feed.ORDER_TOPIC,
        )

    async def load(self, conn: AsyncConnection, items: Sequence[Item]) -> Loaded:
        orders = await order_feed.load(  # the buyers whose messages are classified
            conn, [i for i in items if i.topic != agent_messages.TOPIC], self.order_window
        )
        state = await self.messages.load(
            conn, [i for i in items if i.topic != order_feed.ORDER_TOPIC]
        )
        state.orders = orders
        return state

    def decide(self, state: Loaded, item: Item, now: datetime) -> Decision[Changes]:
        if item.topic == order_feed.ORDER_TOPIC:
            return cast(Decision[Changes], order_feed.decide(item, now))
        if item.topic == agent_messages.TOPIC:
            return cast(Decision[Changes], self.sent.decide(state, item, now))
        return cast(Decision[Changes], self.messages.decide(state, item, now))

    def apply(self, state: Loaded, decision: Decision[Changes]) -> None:
        changes = decision.changes
        if isinstance(changes, OrderHeard):
            order_feed.apply(state, changes)
        elif isinstance(changes, SentHeard):
            self.sent.apply(state, cast(Decision[SentHeard], decision))
        else:
            self.messages.apply(state, cast(Decision[MessageChanges], decision))

    async def settle(
        self,
        conn: AsyncConnection,
        state: Loaded,
        decided: Sequence[Decided[Changes]],
        now: datetime,
    ) -> None:
        messages = [
            x for x in decided if not isinstance(x.decision.changes, SentHeard | OrderHeard)
        ]
        await self.messages.settle(
            conn, state, cast(Sequence[Decided[MessageChanges]], messages), now
        )

    async def save(self, conn: AsyncConnection, state: Loaded) -> None:
        await self.messages.save(conn, state)
        await buyer_orders.save(conn, state.orders)
