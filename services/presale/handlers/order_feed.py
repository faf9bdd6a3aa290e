"""Buyer messages and order changes in one batch: the order events keep presale's view of each
buyer's latest order (`store.buyer_orders`), which the messages after them are classified with.

`MessagesWithOrders` wraps `messages.MessageBatch` as one `BatchLogic` over both topics:
- load: the batch's buyers' latest orders and their shops' feed start (one query per table),
  then the messages' state;
- decide: an order event becomes the order it tells of (no effects); a message is decided by
  `MessageBatch` with the buyer's order phase at that point of the batch;
- apply: the order is folded into the batch's `OrderBook` (latest by change time), so a
  message after it in the same batch already sees it;
- settle / save: the messages' as before; the changed latest orders in one upsert that only
  ever moves a row forward in time, new shops in one insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.buyer_context import LatestOrder
from services.presale.handlers.messages import Loaded, MessageBatch, MessageChanges
from services.presale.store import buyer_orders
from shared.batch import Decided, Decision, Item
from shared.contracts import OrderChanged

ORDER_TOPIC = "trade.order.changed.v1"


@dataclass(frozen=True)
class OrderHeard:
    """An order event's decision: this buyer's order is now known in this state."""

    shop_id: str
    buyer_id: str
    order: LatestOrder
    heard_at: datetime


Changes = MessageChanges | OrderHeard


class MessagesWithOrders:
    """`BatchLogic` for `cs.message.received.v1` and `trade.order.changed.v1`."""

    def __init__(self, messages: MessageBatch, window: timedelta) -> None:
        self.messages = messages
        self.window = window
        self.topics: Sequence[str] = (*messages.topics, ORDER_TOPIC)

    async def load(self, conn: AsyncConnection, items: Sequence[Item]) -> Loaded:
        buyers = {(i.payload.shop_id, _buyer(i)) for i in items}
        orders = await buyer_orders.load(conn, buyers, self.window)
        state = await self.messages.load(conn, [i for i in items if i.topic != ORDER_TOPIC])
        state.orders = orders
        return state

    def decide(self, state: Loaded, item: Item, now: datetime) -> Decision[Changes]:
        if item.topic != ORDER_TOPIC:
            return cast(Decision[Changes], self.messages.decide(state, item, now))
        o = item.payload
        assert isinstance(o, OrderChanged)
        order = LatestOrder(o.order_id, o.status, o.changed_at)
        return Decision(OrderHeard(o.shop_id, o.buyer_id, order, now))

    def apply(self, state: Loaded, decision: Decision[Changes]) -> None:
        heard = decision.changes
        if isinstance(heard, OrderHeard):
            state.orders.heard(heard.shop_id, heard.buyer_id, heard.order, heard.heard_at)
        else:
            self.messages.apply(state, cast(Decision[MessageChanges], decision))

    async def settle(
        self,
        conn: AsyncConnection,
        state: Loaded,
        decided: Sequence[Decided[Changes]],
        now: datetime,
    ) -> None:
        messages = [x for x in decided if not isinstance(x.decision.changes, OrderHeard)]
        await self.messages.settle(
            conn, state, cast(Sequence[Decided[MessageChanges]], messages), now
        )

    async def save(self, conn: AsyncConnection, state: Loaded) -> None:
        await self.messages.save(conn, state)
        await buyer_orders.save(conn, state.orders)


def _buyer(item: Item) -> str:
    buyer_id = getattr(item.payload, "buyer_id", None)
    assert isinstance(buyer_id, str)
    return buyer_id
