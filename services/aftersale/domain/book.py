"""The aggregates a batch works on (`Book`) and one decision's changes to them (`View`).

A `Book` holds what the store loaded for a batch (or a timer) and what the decisions applied
so far changed, with the indexes the flows need (a refund's case, an order's cases, a buyer's
orders and signals). A decision reads through a `View` and writes only into it; `apply`
folds the view into the book, so a decision that raises changes nothing and the next record
sees everything the earlier ones did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.aftersale.domain.model import (
    BuyerKey,
    Case,
    Conversation,
    EarlyChange,
    HistoryEntry,
    Order,
    Review,
    Signal,
)

CategoryKey = tuple[str, str]
"""(shop_id, item_id)"""


class NotLoaded(LookupError):
    """A decision asked for something the loader did not load: a bug, never a guess."""


@dataclass
class Book:
    cases: dict[str, Case] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    buyers: set[BuyerKey] = field(default_factory=set)
    """Buyers whose orders and signals were all loaded (risk is counted for these only)."""
    signals: dict[BuyerKey, dict[tuple[str, str], Signal]] = field(default_factory=dict)
    categories: dict[CategoryKey, str] = field(default_factory=dict)
    early: dict[str, EarlyChange] = field(default_factory=dict)
    reviews: set[str] = field(default_factory=set)
    conversations: dict[BuyerKey, Conversation] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    # indexes
    case_of_refund: dict[str, str] = field(default_factory=dict)
    cases_of_order: dict[str, set[str]] = field(default_factory=dict)
    orders_of_buyer: dict[BuyerKey, set[str]] = field(default_factory=dict)
    # what changed, for the save
    changed_cases: set[str] = field(default_factory=set)
    changed_orders: set[str] = field(default_factory=set)
    changed_categories: set[CategoryKey] = field(default_factory=set)
    new_signals: list[Signal] = field(default_factory=list)
    saved_early: set[str] = field(default_factory=set)
    taken_early: set[str] = field(default_factory=set)
    new_reviews: list[Review] = field(default_factory=list)
    changed_conversations: set[BuyerKey] = field(default_factory=set)
    new_history: list[HistoryEntry] = field(default_factory=list)

    def index(self) -> Book:
        """(Re)build the indexes from the loaded rows; returns self."""
        for case in self.cases.values():
            self._index_case(case)
        for order in self.orders.values():
            self.orders_of_buyer.setdefault(order.buyer, set()).add(order.order_id)
        return self

    def _index_case(self, case: Case) -> None:
        if case.refund_id is not None:
            self.case_of_refund[case.refund_id] = case.case_id
        self.cases_of_order.setdefault(case.order_id, set()).add(case.case_id)

    def apply(self, v: View) -> None:
        """Fold one decision's changes in."""
        for case in v.cases.values():
            self.cases[case.case_id] = case
            self._index_case(case)
            self.changed_cases.add(case.case_id)
        for order in v.orders.values():
            self.orders[order.order_id] = order
            self.orders_of_buyer.setdefault(order.buyer, set()).add(order.order_id)
            self.changed_orders.add(order.order_id)
        for key, category in v.categories.items():
            self.categories[key] = category
            self.changed_categories.add(key)
        for s in v.signals:
            self.signals.setdefault((s.shop_id, s.buyer_id), {})[s.key] = s
            self.new_signals.append(s)
        for refund_id in v.taken_early:
            self.early.pop(refund_id, None)
            self.taken_early.add(refund_id)
            self.saved_early.discard(refund_id)
        for change in v.early.values():
            self.early[change.refund_id] = change
            self.saved_early.add(change.refund_id)
            self.taken_early.discard(change.refund_id)
        for r in v.reviews:
            self.reviews.add(r.review_id)
            self.new_reviews.append(r)
        for key, conv in v.conversations.items():
            self.conversations[key] = conv
            self.changed_conversations.add(key)
        for h in v.history:
            self.history.setdefault(h.case_id, []).append(h)
            self.new_history.append(h)


@dataclass
class View:
    """One decision's window on a `Book`: reads see the book plus this decision's writes."""

    book: Book
    cases: dict[str, Case] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    categories: dict[CategoryKey, str] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)
    early: dict[str, EarlyChange] = field(default_factory=dict)
    taken_early: set[str] = field(default_factory=set)
    reviews: list[Review] = field(default_factory=list)
    conversations: dict[BuyerKey, Conversation] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)

    # -- cases -------------------------------------------------------------------------------
    def case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id) or self.book.cases.get(case_id)

    def put_case(self, case: Case) -> Case:
        self.cases[case.case_id] = case
        return case

    def case_of_refund(self, refund_id: str) -> Case | None:
        for case in self.cases.values():
            if case.refund_id == refund_id:
                return case
        case_id = self.book.case_of_refund.get(refund_id)
        return self.case(case_id) if case_id is not None else None

    def cases_of_order(self, order_id: str) -> list[Case]:
        """The order's cases, in case id order."""
        ids = set(self.book.cases_of_order.get(order_id, ()))
        ids.update(c.case_id for c in self.cases.values() if c.order_id == order_id)
        return [c for c in (self.case(i) for i in sorted(ids)) if c is not None]

    def history_of(self, case_id: str) -> list[HistoryEntry]:
        return [*self.book.history.get(case_id, ()), *(h for h in self.history if h.case_id == case_id)]  # fmt: skip

    def add_history(self, case_id: str, at: datetime, event: str, detail: str = "") -> None:
        self.history.append(HistoryEntry(case_id, at, event, detail))

    # -- orders ------------------------------------------------------------------------------
    def order(self, order_id: str) -> Order | None:
        return self.orders.get(order_id) or self.book.orders.get(order_id)

    def put_order(self, order: Order) -> None:
        self.orders[order.order_id] = order

    def orders_of(self, buyer: BuyerKey) -> list[Order]:
        if buyer not in self.book.buyers:
            raise NotLoaded(f"orders of buyer {buyer[1]!r} of shop {buyer[0]!r} not loaded")
        ids = set(self.book.orders_of_buyer.get(buyer, ()))
        ids.update(o.order_id for o in self.orders.values() if o.buyer == buyer)
        return [o for o in (self.order(i) for i in sorted(ids)) if o is not None]

    def category(self, shop_id: str, item_id: str) -> str | None:
        key = (shop_id, item_id)
        return self.categories.get(key) or self.book.categories.get(key)

    def put_category(self, shop_id: str, item_id: str, category: str) -> None:
        self.categories[(shop_id, item_id)] = category

    # -- buyer signals -----------------------------------------------------------------------
    def signals_of(self, buyer: BuyerKey) -> list[Signal]:
        if buyer not in self.book.buyers:
            raise NotLoaded(f"signals of buyer {buyer[1]!r} of shop {buyer[0]!r} not loaded")
        mine = [s for s in self.signals if (s.shop_id, s.buyer_id) == buyer]
        return [*self.book.signals.get(buyer, {}).values(), *mine]

    def add_signal(self, signal: Signal) -> None:
        """Counted once per (kind, ref_id): a replayed event adds nothing."""
        buyer = (signal.shop_id, signal.buyer_id)
        if signal.key in self.book.signals.get(buyer, {}):
            return
        if any((s.shop_id, s.buyer_id, s.key) == (*buyer, signal.key) for s in self.signals):
            return
        self.signals.append(signal)

    # -- early changes, reviews, conversations -------------------------------------------------
    def early_change(self, refund_id: str) -> EarlyChange | None:
        if refund_id in self.taken_early:
            return None
        return self.early.get(refund_id) or self.book.early.get(refund_id)

    def save_early(self, change: EarlyChange) -> None:
        self.taken_early.discard(change.refund_id)
        self.early[change.refund_id] = change

    def take_early(self, refund_id: str) -> EarlyChange | None:
        change = self.early_change(refund_id)
        if change is not None:
            self.early.pop(refund_id, None)
            self.taken_early.add(refund_id)
        return change

    def review_seen(self, review_id: str) -> bool:
        return review_id in self.book.reviews or any(r.review_id == review_id for r in self.reviews)

    def add_review(self, review: Review) -> None:
        self.reviews.append(review)

    def conversation(self, buyer: BuyerKey) -> Conversation | None:
        return self.conversations.get(buyer) or self.book.conversations.get(buyer)

    def put_conversation(self, conv: Conversation) -> None:
        self.conversations[(conv.shop_id, conv.buyer_id)] = conv
