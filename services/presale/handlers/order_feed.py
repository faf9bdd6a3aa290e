"""Order changes (`trade.order.changed.v1`) in the same batches as the buyers' messages
(`front_desk.FrontDesk`): they keep presale's view of each buyer's latest order
(`store.buyer_orders`), which the messages after them are classified with.

- load: the batch's buyers' latest orders and their shops' feed start (one query per table);
- decide: an order event becomes the order it tells of (no effects);
- apply: the order is folded into the batch's `OrderBook` (latest by change time), so a
  message after it in the same batch already sees it;
- save (`FrontDesk.save`): the changed latest orders in one upsert that only ever moves a row
  forward in time, new shops in one insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.buyer_context import LatestOrder, OrderBook
from services.presale.handlers.messages import Loaded
from services.presale.store import buyer_orders
from shared.batch import Decision, Item
from shared.contracts import OrderChanged

ORDER_TOPIC = "trade.order.changed.v1"


@dataclass(frozen=True)
class OrderHeard:
    """An order event's decision: this buyer's order is now known in this state."""

    shop_id: str
    buyer_id: str
    order: LatestOrder
    heard_at: datetime


async def load(conn: AsyncConnection, items: Sequence[Item], window: timedelta) -> OrderBook:
    """The latest orders of every buyer the batch's records name (messages included: they
    are classified with their buyer's order)."""
    return await buyer_orders.load(conn, {(i.payload.shop_id, _buyer(i)) for i in items}, window)


def decide(item: Item, now: datetime) -> Decision[OrderHeard]:
    o = item.payload
    assert isinstance(o, OrderChanged)
    return Decision(OrderHeard(o.shop_id, o.buyer_id, LatestOrder(o.order_id, o.status,
                                                                  o.changed_at), now))  # fmt: skip


def apply(state: Loaded, heard: OrderHeard) -> None:
    state.orders.heard(heard.shop_id, heard.buyer_id, heard.order, heard.heard_at)


def _buyer(item: Item) -> str:
    buyer_id = getattr(item.payload, "buyer_id", None)
    assert isinstance(buyer_id, str)
    return buyer_id
