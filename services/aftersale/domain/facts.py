"""Plain records the policy reasons about: what the shop knows of an order and a refund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

NOT_SHIPPED = frozenset({"WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"})
SIGNED = frozenset({"TRADE_BUYER_SIGNED", "TRADE_FINISHED"})


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    buyer_id: str
    status: str
    total_fee: int
    consign_time: datetime | None = None
    signed_at: datetime | None = None

    @property
    def shipped(self) -> bool:
        return self.consign_time is not None or self.status not in NOT_SHIPPED

    @property
    def signed(self) -> bool:
        return self.signed_at is not None or self.status in SIGNED


@dataclass(frozen=True)
class RefundFacts:
    """A refund request as the trade system described it."""

    refund_id: str
    order_id: str
    refund_phase: str
    has_good_return: bool
    good_status: str
    reason: str
    refund_fee: int
    order_total_fee: int
    requested_at: datetime
    item_category: str | None = None

    @property
    def claims_not_received(self) -> bool:
        return self.good_status == "BUYER_NOT_RECEIVED"
