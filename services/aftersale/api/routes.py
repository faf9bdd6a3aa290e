"""REST API: a shop's cases with their history, buyer risk, rules in effect, review counts.

Bearer tokens (`shared.http_auth`): a shop token reads its own shop; the operator token reads
every shop.
"""

# No `from __future__ import annotations`: FastAPI must see the local `Shop` alias itself.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.aftersale.api.schemas import case_json, history_json
from services.aftersale.domain.risk import assess
from services.aftersale.domain.rules import RuleBook
from services.aftersale.store import cases
from services.aftersale.store import reviews as review_store
from services.aftersale.store import signals as signal_store
from shared.http_auth import ShopCaller
from shared.settings import CommonSettings


def _shop(shop_id: str, caller: ShopCaller) -> str:
    return shop_id


Shop = Annotated[str, Depends(_shop)]
"""The path's shop, which the caller's token may reach (`shared.http_auth`)."""


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.runtime.engine
    return engine


Engine = Annotated[AsyncEngine, Depends(_engine)]


def build_router(settings: CommonSettings, rules: RuleBook) -> APIRouter:
    router = APIRouter(prefix="/api/v1/shops/{shop_id}", tags=["aftersale"])

    @router.get("/cases")
    async def list_cases(
        shop: Shop,
        engine: Engine,
        state: Literal["open", "resolved"] | None = None,
        kind: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        async with engine.connect() as conn:
            rows = await cases.list_cases(
                conn, shop, state=state, kind=kind, limit=limit, offset=offset
            )
        return {"shop_id": shop, "cases": [case_json(r) for r in rows]}

    @router.get("/cases/{case_id}")
    async def get_case(shop: Shop, case_id: str, engine: Engine) -> dict[str, Any]:
        async with engine.connect() as conn:
            row = await cases.get_case(conn, case_id, shop_id=shop)
            if row is None:
                raise HTTPException(404, f"no case {case_id!r} in shop {shop!r}")
            steps = await cases.history(conn, case_id)
        return {**case_json(row), "history": history_json(steps)}

    @router.get("/refunds/{refund_id}")
    async def get_refund_case(shop: Shop, refund_id: str, engine: Engine) -> dict[str, Any]:
        async with engine.connect() as conn:
            row = await cases.case_by_refund(conn, shop, refund_id)
        if row is None:
            raise HTTPException(404, f"no case for refund {refund_id!r} in shop {shop!r}")
        return await get_case(shop, row.case_id, engine)

    @router.get("/buyers/{buyer_id}/risk")
    async def buyer_risk(
        shop: Shop, buyer_id: str, engine: Engine, request: Request
    ) -> dict[str, Any]:
        now = request.app.state.runtime.clock.now()
        async with engine.connect() as conn:
            history = await signal_store.risk_history(conn, shop, buyer_id, now)
        profile = assess(history, rules.for_shop(shop).risk)
        return {
            "shop_id": shop,
            "buyer_id": buyer_id,
            "score": profile.score,
            "level": profile.level,
            "reasons": list(profile.reasons),
            "signals": {
                "refunds_30d": history.refunds_30d,
                "orders": history.orders,
                "refunded_orders": history.refunded_orders,
                "not_received_on_signed": history.not_received_on_signed,
                "threat_words": list(history.threat_words),
            },
        }

    @router.get("/policy")
    async def policy(shop: Shop) -> dict[str, Any]:
        rs = rules.for_shop(shop)
        return {
            "shop_id": shop,
            "source": rs.source,
            "auto_approve_limit_fen": rs.auto_approve_limit_fen,
            "seven_day_window_hours": rs.window_hours,
            "ineligible_categories": sorted(rs.ineligible_categories),
            "rules": [
                {
                    "id": r.id,
                    "when": dict(r.when),
                    "decision": r.decision,
                    "reason": r.reason,
                    "ask_evidence": r.ask_evidence,
                }
                for r in rs.rules
            ],
        }

    @router.get("/reviews/summary")
    async def reviews(shop: Shop, engine: Engine) -> dict[str, Any]:
        async with engine.connect() as conn:
            counts = await review_store.review_counts(conn, shop)
        return {"shop_id": shop, "counts": counts}

    return router
