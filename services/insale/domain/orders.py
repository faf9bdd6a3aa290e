"""The order projection: what insale knows about one order, and how events change it.

Events may arrive late, twice or out of order. The projection therefore never moves an order
backwards: a status replaces the known one only if it is further along the order's life
(`STATUS_RANK`), or equally far and newer (`changed_at`). Facts such as `paid_at` or the
tracking number are kept once known and refreshed by newer events. Tracking events only move
`last_tracking_*` forward in `occurred_at`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from shared.contracts import LogisticsUpdated, OrderChanged

T = TypeVar("T")

STATUS_RANK: dict[str, int] = {
    "WAIT_BUYER_PAY": 0,
    "WAIT_SELLER_SEND_GOODS": 1,
    "SELLER_CONSIGNED_PART": 2,
    "WAIT_BUYER_CONFIRM_GOODS": 3,
    "TRADE_BUYER_SIGNED": 4,
    "TRADE_FINISHED": 5,
    "TRADE_CLOSED": 5,
    "TRADE_CLOSED_BY_TAOBAO": 5,
}
CLOSED = frozenset({"TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"})
SHIPPED_RANK = STATUS_RANK["SELLER_CONSIGNED_PART"]
DELIVERED_RANK = STATUS_RANK["TRADE_BUYER_SIGNED"]


@dataclass(frozen=True)
class Item:
    item_id: str
    title: str
    quantity: int = 1


@dataclass(frozen=True)
class Order:
    """One order as insale sees it, plus what insale already did about it."""

    order_id: str
    shop_id: str
    buyer_id: str | None = None  # unknown while only tracking events have arrived
    status: str | None = None
    status_changed_at: datetime | None = None
    total_fee: int = 0
    items: tuple[Item, ...] = ()
    created_at: datetime | None = None
    paid_at: datetime | None = None
    consign_time: datetime | None = None
    signed_at: datetime | None = None
    pay_deadline: datetime | None = None  # timeout_action_time while WAIT_BUYER_PAY
    promised_ship_by: datetime | None = None
    logistics_company: str | None = None
    tracking_no: str | None = None
    receiver_region: str | None = None
    last_tracking_status: str | None = None
    last_tracking_at: datetime | None = None
    last_tracking_text: str | None = None  # the carrier's text, masked
    # What insale did (so that each effect happens once)
    reminder_key: str | None = None
    reminders_sent: int = 0
    ship_watch_key: str | None = None
    ship_risk_alerted: bool = False
    ship_missed_alerted: bool = False
    shipped_notified: bool = False
    stalls_reported: int = 0
    stalled: bool = False

    # -- what state the order is in -------------------------------------------------------
    @property
    def known(self) -> bool:
        """An order event has arrived (not only tracking events)."""
        return self.status is not None and self.buyer_id is not None

    @property
    def rank(self) -> int:
        return STATUS_RANK[self.status] if self.status else -1

    @property
    def unpaid(self) -> bool:
        return self.status == "WAIT_BUYER_PAY"

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def finished(self) -> bool:
        """Nothing more will happen in sale: closed, finished, or signed for."""
        return self.rank >= DELIVERED_RANK or self.last_tracking_status == "SIGNED"

    @property
    def paid(self) -> bool:
        return self.paid_at is not None or (self.rank >= 1 and not self.closed)

    @property
    def shipped(self) -> bool:
        return (
            (self.rank >= SHIPPED_RANK and not self.closed)
            or self.consign_time is not None
            or self.last_tracking_at is not None
        )

    @property
    def delivered(self) -> bool:
        return (self.rank >= DELIVERED_RANK and not self.closed) or (
            self.last_tracking_status == "SIGNED"
        )

    @property
    def in_transit(self) -> bool:
        """Shipped, neither delivered nor closed: the parcel is on its way."""
        return self.shipped and not self.delivered and not self.closed

    @property
    def awaiting_shipment(self) -> bool:
        """Paid and waiting for the shop to ship."""
        return (
            self.known
            and self.paid
            and not self.shipped
            and not self.closed
            and not (self.rank >= DELIVERED_RANK)
        )

    @property
    def first_title(self) -> str:
        return self.items[0].title if self.items else "宝贝"


def new_order(order_id: str, shop_id: str) -> Order:
    return Order(order_id=order_id, shop_id=shop_id)


def _newer(a: datetime | None, b: datetime | None) -> bool:
    """True when `a` is strictly later than `b` (anything beats unknown)."""
    return a is not None and (b is None or a > b)


def apply_order_event(order: Order | None, e: OrderChanged) -> Order:
    """The projection after `e`; applying the same event again changes nothing."""
    current = order or new_order(e.order_id, e.shop_id)
    takes_status = current.status is None or (
        (STATUS_RANK[e.status], e.changed_at) > (current.rank, current.status_changed_at)
    )
    newest = current.status_changed_at is None or e.changed_at >= current.status_changed_at

    def pick(new: T | None, old: T | None) -> T | None:
        """Newer events refresh a fact; older ones only fill what is still unknown."""
        if new is None:
            return old
        if old is None:
            return new
        return new if newest else old

    pay_deadline = current.pay_deadline
    if e.status == "WAIT_BUYER_PAY" and e.timeout_action_time is not None:
        pay_deadline = pick(e.timeout_action_time, current.pay_deadline)
    items = tuple(Item(i.item_id, i.title, i.quantity) for i in e.items)
    return replace(
        current,
        shop_id=e.shop_id,
        buyer_id=current.buyer_id or e.buyer_id,
        status=e.status if takes_status else current.status,
        status_changed_at=e.changed_at if takes_status else current.status_changed_at,
        total_fee=e.total_fee if (newest or not current.items) else current.total_fee,
        items=items if (newest and items) or not current.items else current.items,
        created_at=current.created_at or e.created_at,
        paid_at=pick(e.paid_at, current.paid_at),
        consign_time=pick(e.consign_time, current.consign_time),
        signed_at=pick(e.signed_at, current.signed_at),
        pay_deadline=pay_deadline,
        promised_ship_by=pick(e.promised_ship_by, current.promised_ship_by),
        logistics_company=pick(e.logistics_company, current.logistics_company),
        tracking_no=pick(e.tracking_no, current.tracking_no),
        receiver_region=pick(e.receiver_region, current.receiver_region),
    )


@dataclass(frozen=True)
class TrackingChange:
    order: Order
    newest: bool  # the event is the latest tracking event known for the order
    exception: bool  # ... and it reports an EXCEPTION


def apply_tracking_event(
    order: Order | None, e: LogisticsUpdated, masked_text: str
) -> TrackingChange:
    """Record a tracking event; only a newer one replaces the latest status."""
    current = order or new_order(e.order_id, e.shop_id)
    newest = _newer(e.occurred_at, current.last_tracking_at)
    updated = replace(
        current,
        logistics_company=current.logistics_company or e.logistics_company,
        tracking_no=current.tracking_no or e.tracking_no,
    )
    if newest:
        updated = replace(
            updated,
            last_tracking_status=e.status,
            last_tracking_at=e.occurred_at,
            last_tracking_text=masked_text[:500],
        )
    return TrackingChange(updated, newest, newest and e.status == "EXCEPTION")
