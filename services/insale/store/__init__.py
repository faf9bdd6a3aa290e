"""Insale's storage: one module per aggregate (`orders`, `conversations`), the tables in
`tables`. Loads and saves domain types; no row leaves this package."""

from services.insale.store.conversations import (
    conversation_of,
    load_conversations,
    remember_conversations,
)
from services.insale.store.orders import (
    buyers_orders,
    get_order,
    lock_order,
    lock_orders,
    save_order,
    save_orders,
)
from services.insale.store.tables import conversations, inbox, metadata, orders, outbox, timers

__all__ = [
    "buyers_orders", "conversation_of", "conversations", "get_order", "inbox", "load_conversations",
    "lock_order", "lock_orders", "metadata", "orders", "outbox", "remember_conversations",
    "save_order", "save_orders", "timers",
]  # fmt: skip
