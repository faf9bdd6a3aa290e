"""The quality API (质检): the pre-send check, the shop's rules, per-agent quality KPIs (JSON
and CSV), the wellbeing exposure per agent per day, and recent flags. Shop-token
authenticated like every metrics route.

The pre-send check answers from the rules in memory — no database, no I/O — so the agent
workbench can call it on every reply before it is sent (p99 ≤ 2 ms server time, see
bench/quality_check.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.domain.quality.kpis import QUALITY_FIELDS, quality_kpis
from services.metrics.quality.rulebook import RuleBook
from services.metrics.settings import MetricsSettings
from services.metrics.store import quality as quality_queries
from shared.http_auth import API_PROBLEMS, ShopCaller

MAX_CHECK_CHARS = 4000
MAX_WINDOW = timedelta(days=400)

ShopId = Annotated[str, Path(min_length=1, max_length=200)]
From = Annotated[AwareDatetime, Query(alias="from", description="window start, inclusive")]
To = Annotated[AwareDatetime, Query(alias="to", description="window end, exclusive")]


class CheckRequest(BaseModel):
    text: str = Field(
        max_length=MAX_CHECK_CHARS, description="the reply the agent is about to send"
    )


class ViolationOut(BaseModel):
    category: str
    rule_id: str
    severity: Literal["info", "warn", "block"]
    start: int = Field(description="span start in `text` (characters)")
    end: int = Field(description="span end, exclusive")
    suggestion: str


class CheckResponse(BaseModel):
    verdict: Literal["ok", "info", "warn", "block"] = Field(
        description="block: do not send; warn: send only after rewording; ok: nothing found"
    )
    violations: list[ViolationOut]
    rules_version: str


class RuleOut(BaseModel):
    rule_id: str
    category: str
    severity: str
    suggestion: str


class RulesResponse(BaseModel):
    shop_id: str
    version: str
    allow: list[str]
    weights: dict[str, int]
    fail: list[str]
    rules: list[RuleOut]


class AgentQuality(BaseModel):
    agent_id: str
    inspected_replies: int = Field(description="agent replies inspected")
    flags_total: int
    flags_ad_law: int
    flags_off_platform: int
    flags_personal_data: int
    flags_rude: int
    flags_over_promise: int
    flags_review_inducement: int
    flags_slow_reply: int = Field(description="answers more than 3 minutes after the buyer")
    scored_sessions: int
    score_avg: float | None = Field(description="mean session score (100 minus deductions)")
    failed_sessions: int
    fail_rate: float | None
    exposure_abuse: int = Field(description="abusive buyer messages this agent faced")
    exposure_threat: int
    exposure_scam_attempt: int


class QualityReport(BaseModel):
    shop_id: str
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    agents: list[AgentQuality]

    model_config = {"populate_by_name": True}


class ExposureDay(BaseModel):
    agent_id: str
    day: date = Field(description="day in the shop's timezone")
    abuse: int = 0
    threat: int = 0
    scam_attempt: int = 0


class ExposureReport(BaseModel):
    shop_id: str
    timezone: str
    days: list[ExposureDay]


class FlagOut(BaseModel):
    flag_id: str
    conversation_id: str
    agent_id: str
    message_id: str | None
    category: str
    rule_id: str
    severity: str
    start: int | None
    end: int | None
    suggestion: str
    response_s: float | None
    at: datetime


def build_quality_router(
    settings: MetricsSettings, engine: Callable[[], AsyncEngine], rules: RuleBook
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/shops/{shop_id}/quality", tags=["quality"])
    problems = API_PROBLEMS

    def check_window(start: datetime, end: datetime) -> None:
        if end <= start:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "'to' must be later than 'from'")
        if end - start > MAX_WINDOW:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"window longer than {MAX_WINDOW.days} days"
            )

    async def agent_rows(shop_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        check_window(start, end)
        async with engine().connect() as conn:
            totals = await quality_queries.quality_totals(conn, shop_id, start, end)
        return [quality_kpis(t) for _, t in sorted(totals.items())]

    @router.post(
        "/check",
        response_model=CheckResponse,
        responses=problems,
        summary="Pre-send check of an agent's reply: verdict and violations with spans and fixes",
    )
    async def check(shop_id: ShopId, _: ShopCaller, body: CheckRequest) -> CheckResponse:
        ruleset = rules.for_shop(shop_id)
        result = ruleset.check(body.text)
        return CheckResponse(
            verdict=result.verdict,
            violations=[
                ViolationOut(
                    category=v.category,
                    rule_id=v.rule_id,
                    severity=v.severity,
                    start=v.start,
                    end=v.end,
                    suggestion=v.suggestion,
                )
                for v in result.violations
            ],
            rules_version=ruleset.version,
        )

    @router.get(
        "/rules", response_model=RulesResponse, responses=problems, summary="The shop's rules"
    )
    def shop_rules(shop_id: ShopId, _: ShopCaller) -> RulesResponse:
        ruleset = rules.for_shop(shop_id)
        return RulesResponse(
            shop_id=shop_id,
            version=ruleset.version,
            allow=list(ruleset.allow),
            weights=dict(ruleset.weights),
            fail=sorted(ruleset.fail),
            rules=[
                RuleOut(
                    rule_id=r.rule_id,
                    category=r.category,
                    severity=r.severity,
                    suggestion=r.suggestion,
                )
                for r in ruleset.rules
            ],
        )

    @router.get(
        "/agents",
        response_model=QualityReport,
        response_model_by_alias=True,
        responses=problems,
        summary="Quality KPIs per agent for a window (flags, scores, exposure)",
    )
    async def agents(shop_id: ShopId, _: ShopCaller, start: From, end: To) -> dict[str, Any]:
        rows = await agent_rows(shop_id, start, end)
        return {"shop_id": shop_id, "from": start, "to": end, "agents": rows}

    @router.get(
        "/agents.csv",
        responses={**problems, 200: {"content": {"text/csv": {}}}},
        summary="The quality table as CSV",
    )
    async def agents_csv(shop_id: ShopId, _: ShopCaller, start: From, end: To) -> Response:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["agent_id", *QUALITY_FIELDS])
        for row in await agent_rows(shop_id, start, end):
            writer.writerow(
                [row["agent_id"], *("" if row[f] is None else row[f] for f in QUALITY_FIELDS)]
            )
        name = f"quality-{shop_id}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get(
        "/exposure",
        response_model=ExposureReport,
        responses=problems,
        summary="Wellbeing: each agent's exposure to abusive, threatening and scam messages per day",
    )
    async def exposure(shop_id: ShopId, _: ShopCaller, start: From, end: To) -> ExposureReport:
        check_window(start, end)
        async with engine().connect() as conn:
            rows = await quality_queries.exposure_rows(
                conn, shop_id, start, end, settings.shop_timezone
            )
        days: dict[tuple[str, date], dict[str, int]] = {}
        for agent, day, flag, n in rows:
            assert day is not None
            days.setdefault((agent, day), {})[flag] = n
        return ExposureReport(
            shop_id=shop_id,
            timezone=settings.shop_timezone,
            days=[
                ExposureDay(agent_id=agent, day=day, **counts)
                for (agent, day), counts in sorted(
                    days.items(), key=lambda kv: (kv[0][1], kv[0][0])
                )
            ],
        )

    @router.get(
        "/flags",
        response_model=list[FlagOut],
        responses=problems,
        summary="The latest quality flags in a window (newest first)",
    )
    async def flags(
        shop_id: ShopId,
        _: ShopCaller,
        start: From,
        end: To,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[FlagOut]:
        check_window(start, end)
        async with engine().connect() as conn:
            rows = await quality_queries.recent_flags(conn, shop_id, start, end, limit)
        return [
            FlagOut(
                flag_id=r.flag_id,
                conversation_id=r.conversation_id,
                agent_id=r.agent_id,
                message_id=r.message_id,
                category=r.category,
                rule_id=r.rule_id,
                severity=r.severity,
                start=r.span_start,
                end=r.span_end,
                suggestion=r.suggestion,
                response_s=r.response_us / 1_000_000 if r.response_us is not None else None,
                at=r.at,
            )
            for r in rows
        ]

    return router
