"""Loading a `Book` (everything a batch or a timer touches, one query per table, the rows it
may change locked in id order, tables always in the same order) and saving what the decisions
changed, in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.book import Book, CategoryKey
from services.aftersale.domain.model import BuyerKey
from services.aftersale.store import cases as case_store
from services.aftersale.store import conversations as conversation_store
from services.aftersale.store import early_changes as early_store
from services.aftersale.store import orders as order_store
from services.aftersale.store import reviews as review_store
from services.aftersale.store import signals as signal_store


@dataclass
class Wants:
    """What the records of a batch (or a timer) name."""

    case_ids: set[str] = field(default_factory=set)
    refund_ids: set[str] = field(default_factory=set)
    order_ids: set[str] = field(default_factory=set)
    buyers: set[BuyerKey] = field(default_factory=set)
    latest_order_of: set[BuyerKey] = field(default_factory=set)
    """Buyers whose latest order (and its cases) a question is about."""
    items: set[CategoryKey] = field(default_factory=set)
    review_ids: set[str] = field(default_factory=set)
    writes_orders: bool = False
    """Order changes are among the records: the orders are locked."""


async def load_book(conn: AsyncConnection, w: Wants) -> Book:
    """Cases first (their buyers and orders are wanted too), then orders, then the rest."""
    cases = await case_store.lock_cases(
        conn, case_ids=w.case_ids, refund_ids=w.refund_ids, order_ids=w.order_ids
    )
    buyers = w.buyers | w.latest_order_of | {(c.shop_id, c.buyer_id) for c in cases.values()}
    order_ids = w.order_ids | {c.order_id for c in cases.values()}
    orders = await order_store.load_orders(conn, order_ids, buyers, lock=w.writes_orders)
    latest = {o.order_id for o in orders.values() if o.buyer in w.latest_order_of}
    if latest - w.order_ids:  # a question about the buyer's latest order: its cases too
        cases.update(await case_store.lock_cases(conn, order_ids=latest - w.order_ids))
    items = w.items | {(o.shop_id, i) for o in orders.values() for i in o.item_ids}
    return Book(
        cases=cases,
        orders=orders,
        buyers=buyers,
        signals=await signal_store.signals(conn, buyers),
        categories=await order_store.categories(conn, items),
        early=await early_store.lock_early_changes(conn, w.refund_ids),
        reviews=await review_store.seen_reviews(conn, w.review_ids),
        conversations=await conversation_store.conversations_of(conn, buyers),
        history=await case_store.histories(conn, cases.keys()),
    ).index()


async def save_book(conn: AsyncConnection, book: Book) -> None:
    await order_store.save_orders(conn, [book.orders[i] for i in sorted(book.changed_orders)])
    await order_store.save_categories(
        conn, {k: book.categories[k] for k in book.changed_categories}
    )
    await case_store.save_cases(conn, [book.cases[i] for i in sorted(book.changed_cases)])
    await case_store.append_history(conn, book.new_history)
    await signal_store.add_signals(conn, book.new_signals)
    await early_store.save_early_changes(
        conn, [book.early[i] for i in sorted(book.saved_early)], book.taken_early
    )
    await review_store.add_reviews(conn, book.new_reviews)
    await conversation_store.save_conversations(
        conn, [book.conversations[k] for k in sorted(book.changed_conversations)]
    )
