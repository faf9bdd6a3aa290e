"""Builders for the events insale consumes, with sensible defaults for tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts import LogisticsUpdated, MessageClassified, OrderChanged, OrderItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday afternoon in shop time: far from quiet hours.
T0 = datetime(2026, 11, 10, 14, 0, tzinfo=SHANGHAI)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


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
    return MessageClassified(
        shop_id=shop_id,
        message_id=uid("msg"),
        conversation_id=conversation_id or f"conv-{buyer_id}",
        buyer_id=buyer_id,
        intent=intent,
        confidence=0.9,
        stage=stage,
        text_masked=text,
        order_id=order_id,
        sent_at=sent_at,
        classified_at=sent_at + timedelta(seconds=1),
    )
