"""A batch's working state: what `load` read, what the decisions changed so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.insale.domain.orders import Order
from shared.conversations import BuyerConversation, conversation_id

Buyer = tuple[str, str]
"""`(shop_id, buyer_id)`"""


@dataclass(frozen=True)
class Changes:
    """One record's changes: the order it moved on, the conversation it made the latest."""

    order: Order | None = None
    conversation: BuyerConversation | None = None


@dataclass
class Loaded:
    orders: dict[str, Order]
    """The orders the batch's trade events change, locked; later decisions' versions."""
    conversations: dict[Buyer, BuyerConversation]
    asked: dict[Buyer, list[Order]] = field(default_factory=dict)
    """Questioning buyers' most recent orders as stored, newest first; not locked."""
    named: dict[str, Order] = field(default_factory=dict)
    """Orders named in questions, as stored, when they are the questioning buyer's."""
    changed: set[str] = field(default_factory=set)
    changed_of: dict[Buyer, set[str]] = field(default_factory=dict)
    heard: dict[Buyer, BuyerConversation] = field(default_factory=dict)

    def conversation_of(self, order: Order) -> str:
        """Where a system message about the order goes."""
        buyer = _buyer(order)
        return conversation_id(self.conversations.get(buyer), *buyer)

    def apply(self, changes: Changes) -> None:
        if changes.order is not None:
            order = changes.order
            self.orders[order.order_id] = order
            self.changed.add(order.order_id)
            if order.buyer_id is not None:
                self.changed_of.setdefault(_buyer(order), set()).add(order.order_id)
        if changes.conversation is not None:
            c = changes.conversation
            self.conversations[(c.shop_id, c.buyer_id)] = c
            self.heard[(c.shop_id, c.buyer_id)] = c

    def changed_orders_of(self, buyer: Buyer) -> list[Order]:
        return [self.orders[i] for i in sorted(self.changed_of.get(buyer, ()))]


def _buyer(order: Order) -> Buyer:
    assert order.buyer_id is not None
    return (order.shop_id, order.buyer_id)
