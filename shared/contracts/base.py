"""Base class for every event payload: strict on what it needs, tolerant of what it does not know."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


def _require_tz(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone offset (RFC 3339)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_tz)]
"""A timezone-aware datetime; naive times are bad input."""

Fen = Annotated[int, "money in integer fen (分)"]


class EventPayload(BaseModel):
    """Producers may add fields: unknown ones are ignored, never an error (UPSTREAM.md)."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_enum_values=True)

    shop_id: str

    def business_time(self) -> datetime:
        """The time the event happened in the business, used for ordering and KPIs."""
        raise NotImplementedError
