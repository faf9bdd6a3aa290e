"""Refund reasons the shop's policy did not recognise, counted per shop so it can extend its YAML.

Aftersale tells, on every `cs.refund.decided.v1`, whether one of the shop's reason groups knew
the platform's reason text (`reason_recognised`). Metrics keeps one fact per decision and
serves, per shop and window, how many decisions had an unrecognised reason and which texts
(`GET /api/v1/shops/{shop_id}/refund-reasons`); the dashboard shows the count. Decisions from
aftersale versions that do not say (`reason_recognised` null) count as neither.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.settings import MetricsSettings
from services.metrics.store import refund_reasons as store
from shared.http_auth import ShopCaller

MAX_TEXTS = 50


class ReasonCount(BaseModel):
    refund_reason: str = Field(description="the platform's reason text, masked")
    decisions: int


class RefundReasons(BaseModel):
    shop_id: str
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    decisions: int = Field(description="refund decisions in the window")
    unrecognised: int = Field(description="of those, with a reason no reason group knew")
    unrecognised_texts: list[ReasonCount] = Field(
        description=f"the unrecognised texts, most frequent first (at most {MAX_TEXTS})"
    )

    model_config = {"populate_by_name": True}


async def refund_reasons(
    engine: AsyncEngine, shop_id: str, start: datetime, end: datetime
) -> RefundReasons:
    async with engine.connect() as conn:
        counts = await store.refund_reasons(conn, shop_id, start, end, MAX_TEXTS)
    return RefundReasons(
        shop_id=shop_id,
        from_=start,
        to=end,
        decisions=counts.decisions,
        unrecognised=counts.unrecognised,
        unrecognised_texts=[
            ReasonCount(refund_reason=r, decisions=n) for r, n in counts.unrecognised_texts
        ],
    )


def build_reasons_router(settings: MetricsSettings, engine: Callable[[], AsyncEngine]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["kpis"])

    @router.get(
        "/shops/{shop_id}/refund-reasons",
        response_model=RefundReasons,
        responses={
            400: {"description": "inconsistent parameters"},
            401: {"description": "missing or unknown token"},
            403: {"description": "the token may not read this shop"},
        },
    )
    async def get_refund_reasons(
        shop_id: str,
        _: ShopCaller,
        start: Annotated[AwareDatetime, Query(alias="from")],
        end: Annotated[AwareDatetime, Query(alias="to")],
    ) -> RefundReasons:
        """Refund reasons the shop's policy did not recognise (extend `reason_groups` with them)."""
        if end <= start:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "'to' must be later than 'from'")
        return await refund_reasons(engine(), shop_id, start, end)

    return router
