"""Orders and refunds folded from their change events, whatever order those arrived in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SUCCESS = "SUCCESS"
FINISHED = frozenset({"SUCCESS", "CLOSED"})


@dataclass(frozen=True)
class OrderEvent:
    event_id: str
    buyer_id: str
    total_fee: int
    created_at: datetime
    paid_at: datetime | None
    changed_at: datetime
    event_source: str = ""  # with event_id, the event's identity (CloudEvents source + id)


@dataclass(frozen=True)
class Order:
    buyer_id: str
    created_at: datetime
    paid_at: datetime | None  # the paid_at of the earliest event (by changed_at) carrying one
    total_fee: int  # from the latest event by changed_at


def fold_order(events: Iterable[OrderEvent]) -> Order:
    ordered = sorted(events, key=lambda e: (e.changed_at, e.event_id, e.event_source))
    if not ordered:
        raise ValueError("an order needs at least one event")
    latest = ordered[-1]
    paid = next((e.paid_at for e in ordered if e.paid_at is not None), None)
    return Order(latest.buyer_id, latest.created_at, paid, latest.total_fee)


@dataclass(frozen=True)
class RefundEvent:
    event_id: str
    kind: str  # "requested" | "changed"
    at: datetime  # requested_at or changed_at
    status: str | None = None
    cs_status: int | None = None


@dataclass(frozen=True)
class Refund:
    requested_at: datetime | None  # earliest requested_at; None if the request was never seen
    succeeded_at: datetime | None  # first SUCCESS by changed_at
    finished_at: datetime | None  # first SUCCESS or CLOSED by changed_at
    disputed: bool  # ever had cs_status >= 2


def fold_refund(events: Iterable[RefundEvent]) -> Refund:
    events = list(events)
    requested = [e.at for e in events if e.kind == "requested"]
    changes = [e for e in events if e.kind == "changed"]
    return Refund(
        requested_at=min(requested, default=None),
        succeeded_at=min((e.at for e in changes if e.status == SUCCESS), default=None),
        finished_at=min((e.at for e in changes if e.status in FINISHED), default=None),
        disputed=any((e.cs_status or 0) >= 2 for e in changes),
    )
