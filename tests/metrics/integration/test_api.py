"""The API's contract: tokens per shop, the operator, 4xx with messages, OpenAPI, live gauges."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import FakeClock
from shared.contracts import MessageReceived
from tests.metrics.helpers import metrics_api
from tests.support.kafka import publisher
from tests.support.runtime import idle

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
WINDOW = {"from": "2026-11-02T00:00:00+08:00", "to": "2026-11-03T00:00:00+08:00"}


@pytest.fixture
def tokens(shop_id: str) -> dict[str, str]:
    return {"mine": f"tok-{uuid.uuid4().hex}", "other": f"tok-{uuid.uuid4().hex}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_shop_token_reads_its_shop_only(
    infra, shop_id: str, tokens: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    other_shop = f"{shop_id}-other"
    api_tokens = f"{shop_id}:{tokens['mine']},{other_shop}:{tokens['other']}"
    async with metrics_api(infra, api_tokens=api_tokens, operator_token="op-secret") as (_, c):
        for path in ("kpis/agents", "kpis/shop", "kpis/agents.csv", "live"):
            url = f"/api/v1/shops/{shop_id}/{path}"
            params = WINDOW if path != "live" else {}
            assert (
                await c.get(url, params=params, headers=bearer(tokens["mine"]))
            ).status_code == 200
            r = await c.get(url, params=params, headers=bearer(tokens["other"]))
            assert r.status_code == 403
            assert "cannot access shop" in r.json()["detail"]
            assert (await c.get(url, params=params, headers=bearer("op-secret"))).status_code == 200
            r = await c.get(url, params=params)
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == "Bearer"
            assert (await c.get(url, params=params, headers=bearer("nope"))).status_code == 401
        me = (await c.get("/api/v1/me", headers=bearer(tokens["mine"]))).json()
        assert me == {"shop_id": shop_id, "operator": False}
        series = f"/api/v1/shops/{shop_id}/kpis/agents/a1/series"
        r = await c.get(
            series, params={**WINDOW, "bucket": "hour"}, headers=bearer(tokens["other"])
        )
        assert r.status_code == 403


async def test_bad_parameters_get_a_4xx_with_a_message(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    async with metrics_api(infra, operator_token="op-secret") as (_, c):
        url = f"/api/v1/shops/{shop_id}/kpis/agents"
        h = bearer("op-secret")
        r = await c.get(url, params={"from": "yesterday", "to": WINDOW["to"]}, headers=h)
        assert r.status_code == 422
        assert "from" in str(r.json()["detail"])
        r = await c.get(url, params={"from": "2026-11-02T00:00:00", "to": WINDOW["to"]}, headers=h)
        assert r.status_code == 422
        assert "timezone" in str(r.json()["detail"])
        r = await c.get(url, params={"to": WINDOW["to"]}, headers=h)
        assert r.status_code == 422
        r = await c.get(url, params={"from": WINDOW["to"], "to": WINDOW["from"]}, headers=h)
        assert r.status_code == 400
        assert "later" in r.json()["detail"]
        r = await c.get(url, params={"from": "2024-01-01T00:00:00Z", "to": WINDOW["to"]}, headers=h)
        assert r.status_code == 400
        assert "days" in r.json()["detail"]
        series = f"/api/v1/shops/{shop_id}/kpis/agents/a1/series"
        r = await c.get(series, params={**WINDOW, "bucket": "week"}, headers=h)
        assert r.status_code == 422
        r = await c.get(
            series, params={"from": "2025-01-01T00:00:00Z", "to": "2025-12-01T00:00:00Z", "bucket": "hour"},
            headers=h,
        )  # fmt: skip
        assert r.status_code == 400
        assert "buckets" in r.json()["detail"]


async def test_openapi_documents_every_endpoint(infra) -> None:  # type: ignore[no-untyped-def]
    async with metrics_api(infra) as (_, c):
        spec = (await c.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/shops/{shop_id}/kpis/agents",
        "/api/v1/shops/{shop_id}/kpis/agents.csv",
        "/api/v1/shops/{shop_id}/kpis/shop",
        "/api/v1/shops/{shop_id}/kpis/agents/{agent_id}/series",
        "/api/v1/shops/{shop_id}/live",
    ):
        assert path in paths, path
    fields = spec["components"]["schemas"]["AgentKpis"]["properties"]
    assert {"response_rate_3min", "inquiry_conversion_rate", "bot_resolution_rate"} <= set(fields)
    assert "final" in spec["components"]["schemas"]["AgentsReport"]["properties"]


async def test_buyers_waiting_now_and_final_flag(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(T0 + timedelta(minutes=5))
    async with (
        metrics_api(infra, clock=clock, operator_token="op") as (rt, c),
        publisher(infra.bootstrap) as pub,
    ):
        for i, minutes in enumerate((0, 4)):
            await pub.event(
                MessageReceived(
                    shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=f"c{i}",
                    buyer_id=f"b{i}", text="在吗", sent_at=T0 + timedelta(minutes=minutes),
                )
            )  # fmt: skip
        await idle(rt)  # both messages ingested
        live = (await c.get(f"/api/v1/shops/{shop_id}/live", headers=bearer("op"))).json()
        assert live["buyers_waiting"] == 2
        assert live["rounds_past_3min"] == 1
        from prometheus_client import generate_latest

        from services.metrics.handlers import gauges
        from shared.observability import REGISTRY

        await gauges.refresh(rt.engine, clock, timedelta(minutes=30), {shop_id})
        text = generate_latest(REGISTRY).decode()
        assert f'xiaoer_metrics_buyers_waiting{{shop_id="{shop_id}"}} 2.0' in text
        assert f'xiaoer_metrics_rounds_past_3min{{shop_id="{shop_id}"}} 1.0' in text
        # a shop the deployment has no token for never becomes a label of its own
        await gauges.refresh(rt.engine, clock, timedelta(minutes=30))
        text = generate_latest(REGISTRY).decode()
        assert f'xiaoer_metrics_buyers_waiting{{shop_id="{shop_id}"}} 0.0' in text
        assert 'xiaoer_metrics_buyers_waiting{shop_id="other"}' in text
        # while the session runs the round is neither answered nor unanswered
        params = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
        body = (
            await c.get(f"/api/v1/shops/{shop_id}/kpis/agents", params=params, headers=bearer("op"))
        ).json()
        assert body["agents"] == []
        assert body["final"] is False
        clock.advance(timedelta(minutes=40))  # both sessions have ended: unanswered
        body = (
            await c.get(f"/api/v1/shops/{shop_id}/kpis/agents", params=params, headers=bearer("op"))
        ).json()
        assert [(a["agent_id"], a["rounds_unanswered"]) for a in body["agents"]] == [
            ("unassigned", 2)
        ]
        live = (await c.get(f"/api/v1/shops/{shop_id}/live", headers=bearer("op"))).json()
        assert live["buyers_waiting"] == 0
        clock.advance(timedelta(hours=73))
        body = (
            await c.get(f"/api/v1/shops/{shop_id}/kpis/agents", params=params, headers=bearer("op"))
        ).json()
        assert body["final"] is True
