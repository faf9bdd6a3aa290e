"""The keys the projection and the snapshots share: conversations, and (shop, responder, hour)
cells whose figures may have changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)

ConvKey = tuple[str, str]  # (shop_id, conversation_id)
Key = tuple[str, str]  # (shop_id, an entity id: buyer, order, refund)
Cell = tuple[str, str, datetime]  # (shop_id, responder, hour_start UTC)


def hour_of(at: datetime) -> datetime:
    """The UTC hour an instant falls in (snapshot hours are UTC hours)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
