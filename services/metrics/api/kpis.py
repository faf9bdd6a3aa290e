"""The KPI API (`/api/v1/...`): authenticated, one shop per token, documented in OpenAPI."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.domain.kpis import (
    RESPONDER_FIELDS,
    ResponderTotals,
    responder_kpis,
    shop_kpis,
)
from services.metrics.settings import MetricsSettings
from services.metrics.store import kpis as queries
from services.metrics.store import open_rounds
from services.metrics.store.shop_kpis import shop_totals
from shared.clock import Clock
from shared.http_auth import API_PROBLEMS, CurrentCaller, ShopCaller

MAX_WINDOW = timedelta(days=400)
MAX_POINTS = 2000

From = Annotated[
    AwareDatetime,
    Query(alias="from", description="window start, inclusive (RFC 3339 with offset)"),
]
To = Annotated[
    AwareDatetime, Query(alias="to", description="window end, exclusive (RFC 3339 with offset)")
]
ShopId = Annotated[str, Path(min_length=1, max_length=200)]


class AgentKpis(BaseModel):
    """One responder's KPIs for the window (KPIS.md "Per responder")."""

    agent_id: str = Field(description="agent id, `bot`, or `unassigned`")
    rounds_answered: int = Field(description="answered rounds of this responder (问答轮次)")
    rounds_unanswered: int = Field(description="unanswered rounds belonging to this agent")
    response_time_avg_s: float | None = Field(description="mean response time (平均响应时间)")
    response_time_p50_s: float | None
    response_time_p90_s: float | None
    response_rate_3min: float | None = Field(description="3 分钟响应率")
    sessions: int = Field(description="sessions in which the responder sent a message")
    first_response_time_avg_s: float | None = Field(description="首次响应时间, mean")
    first_response_time_p50_s: float | None
    first_response_time_p90_s: float | None
    inquiry_buyers: int = Field(description="询单人数")
    paid_buyers: int
    inquiry_conversion_rate: float | None = Field(description="询单转化率")
    sales_fen: int
    avg_order_value_fen: int | None = Field(description="客单价, rounded down")
    csat_responses: int
    csat_satisfied_rate: float | None = Field(description="满意率: ratings ≥ 4 ÷ responses")
    bot_resolved_sessions: int | None = Field(description="bot only; null for others")
    bot_resolution_rate: float | None = Field(description="bot only; null for others")


class Window(BaseModel):
    shop_id: str
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    final: bool = Field(
        description="true once to + ATTRIBUTION_WINDOW has passed: conversion figures are final"
    )

    model_config = {"populate_by_name": True}


class AgentsReport(Window):
    agents: list[AgentKpis]


class ShopReport(Window):
    buyer_messages: int
    sessions: int
    handoffs: int
    orders_paid: int
    refund_requests: int
    refunds_succeeded: int
    refund_rate: float | None = Field(description="退款率")
    dispute_rate: float | None = Field(description="纠纷率")
    refund_duration_avg_s: float | None = Field(description="退款完结时长, mean")


class SeriesPoint(AgentKpis):
    start: datetime
    end: datetime


class AgentSeries(Window):
    agent_id: str
    bucket: Literal["hour", "day"]
    points: list[SeriesPoint]


class Live(BaseModel):
    shop_id: str
    at: datetime
    buyers_waiting: int = Field(description="conversations whose buyer awaits an answer now")
    rounds_past_3min: int = Field(description="of those, rounds open for more than 3 minutes")
    oldest_wait_s: float | None


class Me(BaseModel):
    shop_id: str | None = Field(description="the shop this token reads; null for the operator")
    operator: bool


def build_router(
    settings: MetricsSettings, engine: Callable[[], AsyncEngine], clock: Clock
) -> APIRouter:
    tz = ZoneInfo(settings.shop_timezone)
    router = APIRouter(prefix="/api/v1", tags=["kpis"])
    problems = API_PROBLEMS

    def window(shop_id: str, start: datetime, end: datetime) -> dict[str, Any]:
        if end <= start:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "'to' must be later than 'from'")
        if end - start > MAX_WINDOW:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"window longer than {MAX_WINDOW.days} days"
            )
        final = clock.now() >= end + settings.attribution_window
        return {"shop_id": shop_id, "from": start, "to": end, "final": final}

    async def agent_rows(shop_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        w = queries.Window(shop_id, start, end, clock.now(), settings.session_gap)
        totals = await queries.responder_totals(engine(), w)
        return [responder_kpis(t) for (_, _), t in sorted(totals.items())]

    @router.get("/me", response_model=Me, responses=problems, summary="Who this token is")
    async def me(caller: CurrentCaller) -> Me:
        return Me(shop_id=caller.shop_id, operator=caller.shop_id is None)

    @router.get(
        "/shops/{shop_id}/kpis/agents",
        response_model=AgentsReport,
        response_model_by_alias=True,
        responses=problems,
        summary="KPIs per agent (and `bot`, `unassigned`) for a window",
    )
    async def agents(shop_id: ShopId, _: ShopCaller, start: From, end: To) -> dict[str, Any]:
        head = window(shop_id, start, end)
        return {**head, "agents": await agent_rows(shop_id, start, end)}

    @router.get(
        "/shops/{shop_id}/kpis/agents.csv",
        responses={**problems, 200: {"content": {"text/csv": {}}}},
        summary="The agents table as CSV",
    )
    async def agents_csv(shop_id: ShopId, _: ShopCaller, start: From, end: To) -> Response:
        head = window(shop_id, start, end)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["agent_id", *RESPONDER_FIELDS])
        for row in await agent_rows(shop_id, start, end):
            writer.writerow(
                [row["agent_id"], *("" if row[f] is None else row[f] for f in RESPONDER_FIELDS)]
            )
        name = f"kpis-{shop_id}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "X-KPI-Final": str(head["final"]).lower(),
            },
        )

    @router.get(
        "/shops/{shop_id}/kpis/shop",
        response_model=ShopReport,
        response_model_by_alias=True,
        responses=problems,
        summary="Shop-wide KPIs for a window",
    )
    async def shop(shop_id: ShopId, _: ShopCaller, start: From, end: To) -> dict[str, Any]:
        head = window(shop_id, start, end)
        async with engine().connect() as conn:
            totals = await shop_totals(conn, shop_id, start, end)
        return {**head, **shop_kpis(totals)}

    @router.get(
        "/shops/{shop_id}/kpis/agents/{agent_id}/series",
        response_model=AgentSeries,
        response_model_by_alias=True,
        responses=problems,
        summary="One agent's KPIs per hour or per day (days in the shop's timezone)",
    )
    async def series(
        shop_id: ShopId,
        _: ShopCaller,
        agent_id: Annotated[str, Path(min_length=1, max_length=200)],
        start: From,
        end: To,
        bucket: Annotated[Literal["hour", "day"], Query(description="hour | day")] = "day",
    ) -> dict[str, Any]:
        head = window(shop_id, start, end)
        edges = _edges(start, end, bucket, tz)
        if len(edges) - 1 > MAX_POINTS:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"{len(edges) - 1} buckets: at most {MAX_POINTS}; use a larger bucket",
            )
        points = []
        w = queries.Window(
            shop_id,
            start,
            end,
            clock.now(),
            settings.session_gap,
            bucket=bucket,
            timezone=settings.shop_timezone,
            responders=[agent_id],
        )
        totals = await queries.responder_totals(engine(), w)
        by_start = {b.astimezone(UTC): t for (_, b), t in totals.items() if b is not None}
        for lo, hi in itertools.pairwise(edges):
            t = by_start.get(_floor(lo, bucket, tz).astimezone(UTC)) or ResponderTotals(agent_id)
            points.append({**responder_kpis(t), "start": lo, "end": hi})
        return {**head, "agent_id": agent_id, "bucket": bucket, "points": points}

    @router.get(
        "/shops/{shop_id}/live",
        response_model=Live,
        responses=problems,
        summary="Buyers waiting for an answer right now",
    )
    async def live(shop_id: ShopId, _: ShopCaller) -> Live:
        now = clock.now()
        async with engine().connect() as conn:
            waiting = (await open_rounds.waiting_now(conn, now, settings.session_gap, shop_id))[
                shop_id
            ]
        return Live(
            shop_id=shop_id,
            at=now,
            buyers_waiting=waiting.buyers_waiting,
            rounds_past_3min=waiting.rounds_past_3min,
            oldest_wait_s=waiting.oldest_wait_s,
        )

    return router


def _floor(at: datetime, bucket: str, tz: ZoneInfo) -> datetime:
    local = at.astimezone(tz)
    if bucket == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _edges(start: datetime, end: datetime, bucket: str, tz: ZoneInfo) -> list[datetime]:
    """Bucket boundaries clipped to [start, end): hours, or days in the shop's timezone."""
    edges = [start]
    cursor = _floor(start, bucket, tz)
    while True:
        if bucket == "hour":
            cursor = (cursor.astimezone(UTC) + timedelta(hours=1)).astimezone(tz)
        else:
            cursor = (cursor + timedelta(days=1)).replace(tzinfo=tz)
            cursor = cursor.replace(hour=0)
        if cursor >= end or len(edges) > MAX_POINTS + 1:
            break
        edges.append(cursor)
    edges.append(end)
    return edges
