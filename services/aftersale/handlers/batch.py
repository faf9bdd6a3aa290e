"""Every topic aftersale consumes, a batch at a time, on the shared batch pattern.

- load: the cases the batch names (by case, refund and order id), then the orders (by id
  and every order of the buyers involved), buyer signals, item categories, early refund
  changes, reviews seen, conversations and the cases' history: one query per table, rows
  that change locked in id order (`store/book.py`);
- decide: the record's flow in `domain/` on a `View` of the book, in record order;
- save: each table's changes in one bulk statement; timers and events by the pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import ModuleType

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.book import Book, View
from services.aftersale.domain.effects import Config, Out, Turn
from services.aftersale.handlers import questions, refunds, reviews
from services.aftersale.handlers.effects import as_effects
from services.aftersale.store.book import Wants, load_book, save_book
from shared.batch_logic import Decided, Decision, Item
from shared.contracts import EventPayload

FLOWS: tuple[ModuleType, ...] = (refunds, reviews, questions)
Flow = Callable[[Turn, EventPayload, str], None]


class AftersaleBatch:
    """`BatchLogic` for aftersale's topics."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._want: dict[str, Callable[[Wants, EventPayload], None]] = {}
        self._decide: dict[str, Flow] = {}
        for flow in FLOWS:
            for topic in flow.TOPICS:
                self._want[topic] = flow.want
                self._decide[topic] = flow.decide
        self.topics = tuple(self._decide)

    async def load(self, conn: AsyncConnection, items: Sequence[Item]) -> Book:
        w = Wants()
        for item in items:
            self._want[item.topic](w, item.payload)
        return await load_book(conn, w)

    def decide(self, state: Book, item: Item, now: datetime) -> Decision[View]:
        t = Turn(View(state), Out(), self.cfg, now)
        self._decide[item.topic](t, item.payload, item.envelope.id)
        return Decision(t.v, as_effects(t.out))

    def apply(self, state: Book, decision: Decision[View]) -> None:
        state.apply(decision.changes)

    async def settle(
        self, conn: AsyncConnection, state: Book, decided: Sequence[Decided[View]], now: datetime
    ) -> None:
        """Nothing is decided across records."""

    async def save(self, conn: AsyncConnection, state: Book) -> None:
        await save_book(conn, state)
