"""The contract of the batch pattern: what a service implements (`BatchLogic`) and what it
sees and returns (`Item`, `Decision`, `Decided`). The overview is in `shared/batch.py`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from opentelemetry import context as otel_context
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.cloudevents import Envelope
from shared.consumer import RawRecord
from shared.contracts import EventPayload
from shared.effects import Effects

S = TypeVar("S")
C = TypeVar("C")


@dataclass(frozen=True)
class Item:
    """A good record of the batch, ready to be decided."""

    raw: RawRecord
    headers: dict[str, str]
    envelope: Envelope
    payload: EventPayload
    parent: otel_context.Context
    """The record's own trace context (from its `traceparent`)."""

    @property
    def topic(self) -> str:
        return self.raw.topic


@dataclass
class Decision(Generic[C]):
    """One record's decision: the new version of what it changed, and its effects."""

    changes: C
    effects: Effects = field(default_factory=Effects)


@dataclass
class Decided(Generic[C]):
    """A decided record, with the trace context its effects carry."""

    item: Item
    decision: Decision[C]
    trace: otel_context.Context


class BatchLogic(Protocol[S, C]):
    """What a service provides to handle its busy topics a batch at a time."""

    @property
    def topics(self) -> Sequence[str]:
        """The topics it decides (a class attribute is enough)."""
        ...

    async def load(self, conn: AsyncConnection, items: Sequence[Item]) -> S:
        """Every aggregate the items touch, one query per table, locked (FOR UPDATE)."""
        ...

    def decide(self, state: S, item: Item, now: datetime) -> Decision[C]:
        """Pure: must not change `state` (a decision that raises dead-letters its record)."""
        ...

    def apply(self, state: S, decision: Decision[C]) -> None:
        """Fold a decision's changes into the state, for the records after it."""
        ...

    async def settle(
        self, conn: AsyncConnection, state: S, decided: Sequence[Decided[C]], now: datetime
    ) -> None:
        """A batch-level step after every decision (e.g. routing); may add effects."""
        ...

    async def save(self, conn: AsyncConnection, state: S) -> None:
        """Write what changed, in bulk statements."""
        ...
