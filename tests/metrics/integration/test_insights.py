"""Hot questions per item and complaint themes per week, from presale's and aftersale's events
on the real broker and database: the API and the dashboard panel (headless Chromium)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from shared.contracts import MessageClassified, RefundDecided, ReplyRequested
from shared.contracts.emitted import Intent
from tests.metrics.helpers import metrics_api
from tests.support.kafka import Publisher, publisher
from tests.support.runtime import wait_until

CHROMIUM = "/usr/bin/chromium"
THIS_WEEK = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
LAST_WEEK = THIS_WEEK - timedelta(days=7)
DRESS, TEE = "60181234001", "60281234002"


async def ask(
    pub: Publisher, shop: str, at: datetime, item: str | None, intent: Intent, text: str,
    *, handed: bool = False, stage: str = "presale", sentiment: str = "neutral",
) -> None:  # fmt: skip
    message_id = uuid.uuid4().hex
    conv = f"{shop}:{uuid.uuid4().hex[:8]}"
    await pub.event(MessageClassified(
        shop_id=shop, message_id=message_id, conversation_id=conv, buyer_id="b-" + conv,
        intent=intent, confidence=0.9, stage=stage, sentiment=sentiment,  # type: ignore[arg-type]
        text_masked=text, item_id=item, sent_at=at, classified_at=at,
    ))  # fmt: skip
    if handed:
        await pub.event(ReplyRequested(
            shop_id=shop, reply_request_id=uuid.uuid4().hex, conversation_id=conv,
            buyer_id="b-" + conv, in_reply_to=message_id, text="已为您转接人工客服",
            kind="handoff_notice", requested_by="presale", requested_at=at,
        ))  # fmt: skip


def refund(shop: str, at: datetime, reason: str) -> RefundDecided:
    return RefundDecided(
        shop_id=shop, refund_id=uuid.uuid4().hex, order_id=uuid.uuid4().hex, decision="escalate",
        rule_id="r", reason="…", decided_at=at, refund_reason=reason, reason_recognised=True,
    )  # fmt: skip


async def publish_two_weeks(pub: Publisher, shop: str) -> None:
    t, p = THIS_WEEK, LAST_WEEK
    for i in range(4):  # the dress: 4 questions on 起球 this week (2 handed off), 1 last week
        await ask(pub, shop, t + timedelta(minutes=i), DRESS, "product_spec", "会不会起球啊",
                  handed=i < 2)  # fmt: skip
    await ask(pub, shop, p, DRESS, "product_spec", "起球吗")
    for i in range(2):
        await ask(pub, shop, t + timedelta(hours=1, minutes=i), DRESS, "size_advice", "165穿什么码")
    for i in range(3):  # the T-shirt: 1 question this week, 3 last week
        await ask(pub, shop, p + timedelta(minutes=i), TEE, "stock", "白色M有货吗")
    await ask(pub, shop, t, TEE, "stock", "黑色L有货吗", handed=True)
    await ask(pub, shop, t, None, "greeting", "在吗")  # not a question
    # complaints: the dress's colour this week (a message and a refund), logistics last week
    await ask(pub, shop, t + timedelta(hours=2), DRESS, "quality_issue", "色差太大了吧",
              stage="aftersale", sentiment="negative")  # fmt: skip
    await ask(pub, shop, p + timedelta(hours=2), TEE, "complaint", "快递太慢了", stage="aftersale",
              sentiment="angry")  # fmt: skip
    await pub.event(refund(shop, t + timedelta(hours=3), "颜色和图片不一样"))
    await pub.event(refund(shop, p + timedelta(hours=3), "尺码偏小"))
    await pub.event(refund(shop, t + timedelta(days=8), "质量问题"))  # next week: not counted


async def test_weekly_hot_questions_and_complaint_themes(infra: Any, shop_id: str) -> None:
    headers = {"Authorization": "Bearer op"}
    url = f"/api/v1/shops/{shop_id}/insights/weekly"
    async with metrics_api(infra, operator_token="op") as (_, c), publisher(infra.bootstrap) as pub:
        await publish_two_weeks(pub, shop_id)
        body: dict[str, Any] = {}

        async def ingested() -> bool:
            nonlocal body
            body = (await c.get(url, params={"week": "2026-11-26"}, headers=headers)).json()
            themes = {t["theme"]: t for t in body.get("complaint_themes", [])}
            return sum(i["questions"]["count"] for i in body["items"]) == 7 and (
                themes.get("size", {}).get("previous") == 1
            )

        await wait_until(ingested, what="both weeks' facts ingested")
        assert body["week_start"].startswith("2026-11-23T00:00:00+08:00")
        assert body["previous_week_start"].startswith("2026-11-16T00:00:00+08:00")
        dress, tee = body["items"]
        assert dress["item_id"] == DRESS
        assert dress["questions"] == {"count": 6, "previous": 1, "change": 5, "change_rate": 5.0}
        assert dress["handed_share"] == round(2 / 6, 4)
        assert dress["topics"][0] == {
            "topic": "product_spec:起球", "count": 4, "previous": 1, "change": 3,
            "change_rate": 3.0, "handed_share": 0.5,
        }  # fmt: skip
        assert dress["topics"][1]["topic"] == "size_advice"
        assert dress["complaints"] == [
            {"theme": "colour", "count": 1, "previous": 0, "change": 1, "change_rate": None}
        ]
        assert tee["item_id"] == TEE
        assert (tee["questions"]["count"], tee["questions"]["previous"]) == (1, 3)
        assert (tee["handed_share"], tee["previous_handed_share"]) == (1.0, 0.0)
        assert tee["complaints"][0]["theme"] == "logistics"
        assert (tee["complaints"][0]["count"], tee["complaints"][0]["previous"]) == (0, 1)
        themes = {t["theme"]: t for t in body["complaint_themes"]}
        assert (themes["colour"]["count"], themes["colour"]["messages"]) == (2, 1)
        assert themes["colour"]["refunds"] == 1
        assert (themes["size"]["count"], themes["size"]["previous"]) == (0, 1)
        assert (themes["logistics"]["count"], themes["logistics"]["previous"]) == (0, 1)
        assert "quality" not in themes  # next week's refund is not in these two weeks

        assert (await c.get(url)).status_code == 401


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app over real HTTP on a free local port (the browser needs a URL)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until(lambda: asyncio.sleep(0, server.started), timeout=10, what="http up")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        sock.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")
async def test_the_dashboard_panel_shows_the_week(infra: Any, shop_id: str) -> None:
    from playwright.async_api import async_playwright

    async with (
        metrics_api(infra, operator_token="op") as (rt, c),
        publisher(infra.bootstrap) as pub,
        serving(rt.app()) as url,
    ):
        await publish_two_weeks(pub, shop_id)

        async def ingested() -> bool:
            r = await c.get(f"/api/v1/shops/{shop_id}/insights/weekly",
                            params={"week": "2026-11-26"}, headers={"Authorization": "Bearer op"})  # fmt: skip
            return len(r.json()["items"]) == 2

        await wait_until(ingested, what="the facts ingested")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1200})
                await page.goto(f"{url}/?shop={shop_id}&from=2026-11-23&to=2026-11-26")
                await page.fill("#token", "op")
                await page.click("#load")
                await page.wait_for_selector("body[data-insights=true]", timeout=20_000)
                assert await page.inner_text("#insights-week") == "2026-11-23"
                rows = page.locator("#hot-questions tbody tr")
                assert await rows.count() == 2
                first = await rows.nth(0).all_inner_texts()
                assert DRESS in first[0]
                cells = await rows.nth(0).locator("td").all_inner_texts()
                assert cells[1] == "6"
                assert cells[2].startswith("+5")
                assert "商品细节·起球 4" in cells[4]
                assert "颜色 1" in cells[5]
                colour = page.locator("#complaint-themes .card[data-theme=colour] .value")
                assert await colour.inner_text() == "2"
                await page.screenshot(path=str(Path("/tmp") / "insights-panel.png"), full_page=True)
            finally:
                await browser.close()
