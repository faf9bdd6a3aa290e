"""The aggregates aftersale keeps, as plain records: cases, orders, buyer signals and the rest.

Stores load and save exactly these; the domain reasons about them without any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.aftersale.domain.facts import OrderFacts, RefundFacts
from shared.conversations import BuyerConversation
from shared.ids import derived_id

BuyerKey = tuple[str, str]
"""(shop_id, buyer_id): buyers are known per shop."""


def refund_case_id(refund_id: str) -> str:
    return derived_id("aftersale-case", "refund", refund_id)


def review_case_id(review_id: str) -> str:
    return derived_id("aftersale-case", "review", review_id)


@dataclass(frozen=True)
class Case:
    """A refund or bad-review case (one row of `cases`)."""

    case_id: str
    shop_id: str
    kind: str
    state: str  # open | resolved
    order_id: str
    buyer_id: str
    opened_at: datetime
    refund_id: str | None = None
    review_id: str | None = None
    reason: str | None = None
    refund_phase: str | None = None
    good_status: str | None = None
    requested_at: datetime | None = None
    refund_fee: int | None = None
    order_total_fee: int | None = None
    has_good_return: bool | None = None
    item_category: str | None = None
    refund_status: str | None = None
    cs_status: int | None = None
    status_changed_at: datetime | None = None
    deadline: datetime | None = None
    decision: str | None = None
    rule_id: str | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None
    risk_score: int | None = None
    risk_level: str | None = None
    risk_reasons: tuple[str, ...] | None = None
    handed_off_at: datetime | None = None
    handed_off_for: datetime | None = None
    alerted_for: datetime | None = None
    dispute_at: datetime | None = None
    outcome: str | None = None
    resolved_at: datetime | None = None

    @property
    def is_open_refund(self) -> bool:
        return self.state == "open" and self.refund_id is not None

    def refund_facts(self) -> RefundFacts:
        """The refund request as the case recorded it (refund cases only)."""
        assert self.refund_id is not None
        assert self.requested_at is not None
        return RefundFacts(
            refund_id=self.refund_id,
            order_id=self.order_id,
            refund_phase=self.refund_phase or "",
            has_good_return=bool(self.has_good_return),
            good_status=self.good_status or "",
            reason=self.reason or "",
            refund_fee=self.refund_fee or 0,
            order_total_fee=self.order_total_fee or 0,
            requested_at=self.requested_at,
            item_category=self.item_category,
        )


@dataclass(frozen=True)
class Order:
    """The latest state of an order, as the trade system last described it."""

    order_id: str
    shop_id: str
    buyer_id: str
    status: str
    total_fee: int
    item_ids: tuple[str, ...]
    created_at: datetime
    changed_at: datetime
    consign_time: datetime | None = None
    signed_at: datetime | None = None

    @property
    def buyer(self) -> BuyerKey:
        return (self.shop_id, self.buyer_id)

    def facts(self) -> OrderFacts:
        return OrderFacts(
            self.order_id, self.buyer_id, self.status, self.total_fee, self.consign_time,
            self.signed_at,
        )  # fmt: skip


@dataclass(frozen=True)
class Signal:
    """One thing counted against a buyer (refund | not_received_signed | threat)."""

    shop_id: str
    buyer_id: str
    kind: str
    ref_id: str
    at: datetime
    detail: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.ref_id)


@dataclass(frozen=True)
class EarlyChange:
    """A platform refund change consumed before its request (another topic)."""

    refund_id: str
    status: str
    cs_status: int
    timeout: datetime | None
    changed_at: datetime


@dataclass(frozen=True)
class Review:
    review_id: str
    shop_id: str
    order_id: str
    buyer_id: str
    result: str
    posted_at: datetime


Conversation = BuyerConversation
"""The buyer's latest conversation, where replies to them go (`shared/conversations.py`)."""


@dataclass(frozen=True)
class HistoryEntry:
    case_id: str
    at: datetime
    event: str
    detail: str = ""
