"""Base class and field types of every event payload: strict on what it needs, tolerant of what
it does not know, and never accepting a value that storage would reject.

The limits are those of the services' columns (see each service's migrations): an id longer
than its column, a NUL character (PostgreSQL text cannot hold one), an amount beyond int32, a
time outside any plausible business time is bad input, dead-lettered at decoding, instead of a
failed statement later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
)

INT32_MAX = 2**31 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FUTURE_SKEW = timedelta(days=3)
"""How far ahead of the consumer's clock a time of something that happened may be: beyond, it
is clamped to the consumer's clock (see `HappenedAt`)."""
DEADLINE_HORIZON = timedelta(days=400)
"""How far ahead a platform deadline may be: beyond, the event is bad input."""
NOW_CONTEXT = "now"
"""Validation-context key of the consumer's clock (`model_validate(data, context={...})`)."""


def _pg_safe(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL character (PostgreSQL text cannot hold it)")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError("not valid Unicode (lone surrogate)") from None
    return value


PG_SAFE = AfterValidator(_pg_safe)
"""Every contract string is a PostgreSQL-safe string of bounded length (`Annotated` aliases
below, spelled out so type checkers see `str`)."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=100), PG_SAFE]
"""Order, refund, review, item, shop and agent ids: `String(100)` columns."""
LongId = Annotated[str, StringConstraints(min_length=1, max_length=200), PG_SAFE]
"""Conversation, buyer and message ids: `String(200)` columns."""
Name = Annotated[str, StringConstraints(min_length=0, max_length=100), PG_SAFE]
"""Short labels stored in `String(100)` columns (courier, tracking number, category...)."""
Label = Annotated[str, StringConstraints(min_length=0, max_length=200), PG_SAFE]
"""Labels stored in `String(200)` columns (region, refund reason, hand-off reason...)."""
MessageText = Annotated[str, StringConstraints(min_length=1, max_length=2000), PG_SAFE]
"""A chat message's text (the IM gateway's limit)."""
Title = Annotated[str, StringConstraints(min_length=0, max_length=500), PG_SAFE]
"""A title or short description (items, reviews)."""
FreeText = Annotated[str, StringConstraints(min_length=0, max_length=4000), PG_SAFE]
"""Free text kept in `Text`/JSONB or emitted (masked) further."""


def _require_tz(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone offset (RFC 3339)")
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"datetime outside {EARLIEST.year}-{LATEST.year}")
    return value


def _consumer_now(info: ValidationInfo) -> datetime | None:
    context = info.context
    return context.get(NOW_CONTEXT) if isinstance(context, dict) else None


def _not_ahead(value: datetime, info: ValidationInfo) -> datetime:
    now = _consumer_now(info)
    if now is not None and value > now + FUTURE_SKEW:
        return now  # a clock years ahead must not freeze state: the consumer's time wins
    return value


def _plausible_deadline(value: datetime, info: ValidationInfo) -> datetime:
    now = _consumer_now(info)
    if now is not None and value > now + DEADLINE_HORIZON:
        raise ValueError(f"deadline more than {DEADLINE_HORIZON.days} days ahead")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_tz)]
"""A timezone-aware datetime between 2000 and 2100; naive or absurd times are bad input."""
HappenedAt = Annotated[AwareDatetime, AfterValidator(_not_ahead)]
"""When something happened. More than `FUTURE_SKEW` ahead of the consumer's clock, it is
clamped to that clock when consumed (a message "sent" in 2090 would keep its conversation open
and hide every later order change)."""
Deadline = Annotated[AwareDatetime, AfterValidator(_plausible_deadline)]
"""A platform deadline: ahead of now by nature, but not by more than `DEADLINE_HORIZON`."""

# Money is BIGINT in every service; ¥10 billion per amount leaves sums of millions of them
# inside a BIGINT too, while int64-sized nonsense is rejected at the door.
MAX_FEN = 10**12
Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="fen")]
"""Money in integer fen (分); at most int32 (21,474,836.47 yuan) as the columns store it."""
Count = Annotated[int, Field(ge=0, le=1_000_000)]
"""A small count (quantities, capacities)."""


class EventPayload(BaseModel):
    """Producers may add fields: unknown ones are ignored, never an error (UPSTREAM.md)."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, use_enum_values=True, allow_inf_nan=False
    )

    shop_id: Id

    def business_time(self) -> datetime:
        """The time the event happened in the business, used for ordering and KPIs."""
        raise NotImplementedError
