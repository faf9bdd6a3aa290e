"""Builders for the events aftersale consumes, with sensible defaults for tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.contracts import (
    MessageClassified,
    OrderChanged,
    OrderItem,
    RefundChanged,
    RefundRequested,
    ReviewPosted,
)
from tests.support.factories import SHANGHAI, message_classified, uid

__all__ = ["SHANGHAI", "T0", "classified", "order", "refund", "refund_change", "review", "uid"]

# A Monday morning in shop time, well in the future so real-clock processes never fire
# the timers these tests leave behind.
T0 = datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI)


def order(
    order_id: str,
    status: str,
    *,
    shop_id: str,
    buyer_id: str,
    at: datetime = T0 - timedelta(days=3),
    total_fee: int = 20000,
    item_id: str = "item-1",
    **fields: Any,
) -> OrderChanged:
    if status in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_BUYER_SIGNED", "TRADE_FINISHED"):
        fields.setdefault("consign_time", at - timedelta(days=1))
    if status in ("TRADE_BUYER_SIGNED", "TRADE_FINISHED"):
        fields.setdefault("signed_at", at)
    return OrderChanged(
        shop_id=shop_id,
        order_id=order_id,
        buyer_id=buyer_id,
        status=status,
        total_fee=total_fee,
        items=[OrderItem(item_id=item_id, title="纯棉白色T恤", quantity=1, price=total_fee)],
        created_at=at - timedelta(days=3),
        paid_at=at - timedelta(days=3),
        changed_at=at,
        **fields,
    )


def refund(
    refund_id: str,
    order_id: str,
    *,
    shop_id: str,
    buyer_id: str,
    reason: str = "七天无理由退货",
    has_good_return: bool = True,
    good_status: str = "BUYER_RECEIVED",
    refund_fee: int = 5000,
    order_total_fee: int = 20000,
    requested_at: datetime = T0,
    timeout: datetime | None = None,
    item_category: str | None = "apparel",
    description: str | None = None,
    item_id: str = "item-1",
) -> RefundRequested:
    return RefundRequested(
        shop_id=shop_id,
        refund_id=refund_id,
        order_id=order_id,
        buyer_id=buyer_id,
        refund_phase="aftersale" if good_status == "BUYER_RECEIVED" else "onsale",
        has_good_return=has_good_return,
        good_status=good_status,
        reason=reason,
        description=description,
        refund_fee=refund_fee,
        order_total_fee=order_total_fee,
        item_id=item_id,
        item_category=item_category,
        requested_at=requested_at,
        timeout=timeout or requested_at + timedelta(hours=48),
    )


def refund_change(
    refund_id: str,
    order_id: str,
    status: str,
    *,
    shop_id: str,
    changed_at: datetime,
    cs_status: int = 1,
    timeout: datetime | None = None,
) -> RefundChanged:
    return RefundChanged(
        shop_id=shop_id,
        refund_id=refund_id,
        order_id=order_id,
        status=status,
        cs_status=cs_status,
        timeout=timeout,
        changed_at=changed_at,
    )


def review(
    review_id: str, order_id: str, result: str, *, shop_id: str, buyer_id: str, at: datetime = T0,
    content: str = "质量太差了,洗一次就掉色",
) -> ReviewPosted:  # fmt: skip
    return ReviewPosted(
        shop_id=shop_id, review_id=review_id, order_id=order_id, buyer_id=buyer_id,
        item_id="item-1", result=result, content=content, posted_at=at,
    )  # fmt: skip


def classified(
    intent: str, *, shop_id: str, buyer_id: str, stage: str = "aftersale",
    order_id: str | None = None, text: str = "我想退货", at: datetime = T0,
) -> MessageClassified:  # fmt: skip
    return message_classified(
        intent, shop_id=shop_id, buyer_id=buyer_id, stage=stage, text=text, sent_at=at,
        conversation_id=f"c-{buyer_id}", order_id=order_id, message_id=uid("m"),
    )  # fmt: skip
