"""Hot questions per item and complaint themes per week, against the week before.

    GET /api/v1/shops/{shop_id}/insights/weekly[?week=YYYY-MM-DD][&items=20][&topics=5]

A week runs Monday 00:00 to Monday 00:00 in the shop's time zone (SHOP_TIMEZONE); `week` is
any day in it (default: today). Per item (most asked first): the presale questions buyers
asked, the share presale handed to agents (a hand-off notice answered the question), the most
asked topics (intent, refined for product questions: `product_spec:起球`) and the complaint
themes of its buyers' messages; for the shop, the complaint themes of messages and of refund
reasons (aftersale's `cs.refund.decided.v1`). Every count comes with last week's and the
change. Computed from the facts at query time, so a replay rebuilds it (`replay.py`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.domain.themes import THEMES, complaint_theme
from services.metrics.settings import MetricsSettings
from services.metrics.store import insights as store
from shared.clock import Clock
from shared.http_auth import ShopCaller


class Change(BaseModel):
    count: int
    previous: int = Field(description="the week before")
    change: int = Field(description="count - previous")
    change_rate: float | None = Field(description="change / previous; null when previous is 0")


class TopicCount(Change):
    topic: str
    handed_share: float | None = Field(description="share of this week's questions handed off")


class ThemeCount(Change):
    theme: str = Field(description="quality | size | colour | logistics | other")


class ShopTheme(ThemeCount):
    messages: int = Field(description="this week's complaints in buyer messages")
    refunds: int = Field(description="this week's refund reasons")


class ItemWeek(BaseModel):
    item_id: str | None = Field(description="null: questions asked without an item page")
    questions: Change
    handed_share: float | None
    previous_handed_share: float | None
    topics: list[TopicCount] = Field(description="most asked first")
    complaints: list[ThemeCount] = Field(description="most frequent first")


class WeeklyInsights(BaseModel):
    shop_id: str
    week_start: datetime
    previous_week_start: datetime
    items: list[ItemWeek]
    complaint_themes: list[ShopTheme]


def change(count: int, previous: int) -> dict[str, Any]:
    return {"count": count, "previous": previous, "change": count - previous,
            "change_rate": round((count - previous) / previous, 4) if previous else None}  # fmt: skip


def week_start(day: date, tz: ZoneInfo) -> datetime:
    monday = day - timedelta(days=day.weekday())
    return datetime.combine(monday, time(0), tz)


async def weekly(
    engine: AsyncEngine, shop_id: str, start: datetime, max_items: int, max_topics: int
) -> WeeklyInsights:
    prev = start - timedelta(days=7)
    async with engine.connect() as conn:
        counts = await store.two_weeks(conn, shop_id, start)
    return WeeklyInsights(
        shop_id=shop_id, week_start=start, previous_week_start=prev,
        items=_items(counts.asked, counts.complained, max_items, max_topics),
        complaint_themes=_shop_themes(counts.complained, counts.reasons),
    )  # fmt: skip


def _items(asked: Any, complained: Any, max_items: int, max_topics: int) -> list[ItemWeek]:
    topics: dict[str | None, dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0] * 4)
    )
    for item, topic, this, n, handed in asked:
        cell = topics[item][topic]  # [this week, its hand-offs, last week, its hand-offs]
        cell[0 if this else 2] += n
        cell[1 if this else 3] += handed
    themes: dict[str | None, dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    for item, theme, this, n in complained:
        themes[item][theme][0 if this else 1] += n
    out = []
    for item in set(topics) | set(themes):
        cells = topics.get(item, {})
        now = sum(c[0] for c in cells.values())
        before = sum(c[2] for c in cells.values())
        ranked = sorted(cells.items(), key=lambda kv: (-kv[1][0], -kv[1][2], kv[0]))[:max_topics]
        out.append(ItemWeek(
            item_id=item,
            questions=Change(**change(now, before)),
            handed_share=_share(sum(c[1] for c in cells.values()), now),
            previous_handed_share=_share(sum(c[3] for c in cells.values()), before),
            topics=[TopicCount(topic=t, handed_share=_share(c[1], c[0]), **change(c[0], c[2]))
                    for t, c in ranked if c[0] or c[2]],
            complaints=[ThemeCount(theme=t, **change(c[0], c[1]))
                        for t, c in sorted(themes.get(item, {}).items(),
                                           key=lambda kv: (-kv[1][0], kv[0]))],
        ))  # fmt: skip
    out.sort(key=lambda i: (-i.questions.count, -i.questions.previous, i.item_id or "~"))
    return out[:max_items]


def _shop_themes(complained: Any, reasons: Any) -> list[ShopTheme]:
    messages: Counter[tuple[str, bool]] = Counter()
    refunds: Counter[tuple[str, bool]] = Counter()
    for _, theme, this, n in complained:
        messages[(theme, bool(this))] += n
    for reason, this, n in reasons:
        refunds[(complaint_theme(reason), bool(this))] += n
    rows = []
    for theme in THEMES:
        now = messages[(theme, True)] + refunds[(theme, True)]
        before = messages[(theme, False)] + refunds[(theme, False)]
        if now or before:
            rows.append(ShopTheme(theme=theme, messages=messages[(theme, True)],
                                  refunds=refunds[(theme, True)], **change(now, before)))  # fmt: skip
    return sorted(rows, key=lambda r: (-r.count, THEMES.index(r.theme)))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def build_insights_router(
    settings: MetricsSettings, engine: Callable[[], AsyncEngine], clock: Clock
) -> APIRouter:
    tz = ZoneInfo(settings.shop_timezone)
    router = APIRouter(prefix="/api/v1", tags=["insights"])

    @router.get(
        "/shops/{shop_id}/insights/weekly",
        response_model=WeeklyInsights,
        responses={
            401: {"description": "missing or unknown token"},
            403: {"description": "the token may not read this shop"},
            422: {"description": "malformed parameters"},
        },
        summary="Hot questions per item and complaint themes, this week against the last",
    )
    async def get_weekly(
        shop_id: str,
        _: ShopCaller,
        week: Annotated[
            date | None, Query(description="any day of the week; default today")
        ] = None,
        items: Annotated[int, Query(ge=1, le=200)] = 20,
        topics: Annotated[int, Query(ge=1, le=50)] = 5,
    ) -> WeeklyInsights:
        day = week or clock.now().astimezone(tz).date()
        return await weekly(engine(), shop_id, week_start(day, tz), items, topics)

    return router
