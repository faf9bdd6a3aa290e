"""Test-data pieces every service's factories share: shop time, unique ids, the classified
buyer message (presale's output, which insale, aftersale and metrics consume)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.contracts import MessageClassified

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Shop time (Taobao/Tmall shops run on China time)."""


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def message_classified(
    intent: str,
    *,
    shop_id: str,
    buyer_id: str,
    stage: str,
    text: str,
    sent_at: datetime,
    conversation_id: str,
    order_id: str | None = None,
    message_id: str | None = None,
    classified_after: timedelta = timedelta(0),
    confidence: float = 0.9,
) -> MessageClassified:
    return MessageClassified(
        shop_id=shop_id,
        message_id=message_id or uid("msg"),
        conversation_id=conversation_id,
        buyer_id=buyer_id,
        intent=intent,
        confidence=confidence,
        stage=stage,
        text_masked=text,
        order_id=order_id,
        sent_at=sent_at,
        classified_at=sent_at + classified_after,
    )
