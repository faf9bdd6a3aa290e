"""Builders for the events insale consumes, with sensible defaults for tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.contracts import LogisticsUpdated, MessageClassified, OrderChanged, OrderItem
from tests.support.factories import SHANGHAI, message_classified, uid

# A Tuesday afternoon in shop time: far from quiet hours.
T0 = datetime(2026, 11, 10, 14, 0, tzinfo=SHANGHAI)

__all__ = ["SHANGHAI", "T0", "classified", "order_event", "tracking_event", "uid"]


def order_event(
    order_id: str,
    status: str,
    changed_at: datetime,
    *,
    shop_id: str = "shop-t",
    buyer_id: str = "buyer-t",
    created_at: datetime | None = None,
    title: str = "纯棉白色T恤",
    **fields: Any,
) -> OrderChanged:
    return OrderChanged(
        shop_id=shop_id,
        order_id=order_id,
        buyer_id=buyer_id,
        status=status,
        total_fee=9900,
        items=[OrderItem(item_id="item-1", sku_id="sku-1", title=title, quantity=1, price=9900)],
        created_at=created_at or changed_at,
        changed_at=changed_at,
        **fields,
    )


def tracking_event(
    order_id: str,
    status: str,
    occurred_at: datetime,
    *,
    shop_id: str = "shop-t",
    company: str = "顺丰速运",
    tracking_no: str = "SF7700112233",
    description: str = "【杭州市】快件已到达 杭州转运中心",
) -> LogisticsUpdated:
    return LogisticsUpdated(
        shop_id=shop_id,
        order_id=order_id,
        logistics_company=company,
        tracking_no=tracking_no,
        status=status,
        description=description,
        occurred_at=occurred_at,
    )


def classified(
    intent: str,
    *,
    shop_id: str = "shop-t",
    buyer_id: str = "buyer-t",
    conversation_id: str | None = None,
    order_id: str | None = None,
    stage: str = "insale",
    sent_at: datetime = T0,
    text: str = "我的快递到哪了",
) -> MessageClassified:
    return message_classified(
        intent, shop_id=shop_id, buyer_id=buyer_id, stage=stage, text=text, sent_at=sent_at,
        conversation_id=conversation_id or f"conv-{buyer_id}", order_id=order_id,
        classified_after=timedelta(seconds=1),
    )  # fmt: skip
