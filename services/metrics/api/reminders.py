"""The shop owner's figures (`/api/v1/shops/{shop}/kpis/reminders`): 催付 recovery per day.

A router of its own beside `api.py`, with the same bearer-token rules and window parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.api.kpis import MAX_WINDOW
from services.metrics.domain.recovery import RecoveryTotals, recovery_kpis
from services.metrics.settings import MetricsSettings
from services.metrics.store.recovery import recovery_by_day
from shared.http_auth import API_PROBLEMS, ShopCaller

From = Annotated[
    AwareDatetime,
    Query(alias="from", description="window start, inclusive (RFC 3339 with offset)"),
]
To = Annotated[
    AwareDatetime, Query(alias="to", description="window end, exclusive (RFC 3339 with offset)")
]
ShopId = Annotated[str, Path(min_length=1, max_length=200)]


class Recovery(BaseModel):
    """催付 recovery (docs/kpis.md "Reminder recovery")."""

    reminders_sent: int = Field(description="催付 reminders sent in the window")
    reminded_orders: int = Field(description="orders whose first reminder is in the window")
    recovered_orders: int = Field(
        description="of those, orders paid after a reminder, within REMINDER_RECOVERY_WINDOW"
    )
    recovered_fen: int = Field(description="their total_fee, in fen (分)")
    recovery_rate: float | None = Field(description="recovered_orders ÷ reminded_orders")


class RecoveryDay(Recovery):
    day: datetime = Field(description="start of the shop-local day (SHOP_TIMEZONE)")


class RecoveryReport(Recovery):
    shop_id: str
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    recovery_window_s: float = Field(description="REMINDER_RECOVERY_WINDOW in seconds")
    days: list[RecoveryDay] = Field(description="days with reminders, oldest first")

    model_config = {"populate_by_name": True}


def build_business_router(
    settings: MetricsSettings, engine: Callable[[], AsyncEngine]
) -> APIRouter:
    tz = ZoneInfo(settings.shop_timezone)
    router = APIRouter(prefix="/api/v1", tags=["kpis"])
    problems = API_PROBLEMS

    @router.get(
        "/shops/{shop_id}/kpis/reminders",
        response_model=RecoveryReport,
        response_model_by_alias=True,
        responses=problems,
        summary="催付 recovery: reminders sent, orders paid after one, amount recovered, per day",
    )
    async def reminders(shop_id: ShopId, _: ShopCaller, start: From, end: To) -> dict[str, Any]:
        if end <= start:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "'to' must be later than 'from'")
        if end - start > MAX_WINDOW:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"window longer than {MAX_WINDOW.days} days"
            )
        window = settings.reminder_recovery_window
        async with engine().connect() as conn:
            by_day = await recovery_by_day(
                conn, shop_id, start, end, window, settings.shop_timezone
            )
        total = RecoveryTotals()
        days = []
        for day, t in sorted(by_day.items()):
            total.add(t)
            days.append({"day": day.astimezone(tz), **recovery_kpis(t)})
        return {
            "shop_id": shop_id,
            "from": start,
            "to": end,
            "recovery_window_s": window.total_seconds(),
            **recovery_kpis(total),
            "days": days,
        }

    return router
