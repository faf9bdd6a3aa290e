"""Quality inspection through the real broker and database: agent replies with violations
become the right cs.quality.flagged.v1 events and per-agent quality KPIs, which a replay
reproduces; the pre-send check answers with spans and fixes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.metrics.domain.quality.kpis import quality_kpis
from services.metrics.store import quality as quality_queries
from shared.contracts import ConversationAssigned, MessageClassified, MessageReceived, MessageSent
from shared.db import create_engine
from tests.metrics.helpers import metrics_api, operator
from tests.support.kafka import collecting, publisher
from tests.support.runtime import idle

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
FLAGGED = "cs.quality.flagged.v1"
BAD_REPLY = "亲，加我微信abc123，全网最低价"


async def test_replies_are_flagged_scored_and_replayable(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    c1, c2 = f"c-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:8]}"

    def buyer(conv: str, s: int, text: str = "在吗") -> MessageReceived:
        return MessageReceived(
            shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv,
            buyer_id=f"b-{conv}", text=text, sent_at=T0 + timedelta(seconds=s),
        )  # fmt: skip

    def agent(conv: str, s: int, who: str, text: str) -> MessageSent:
        return MessageSent(
            shop_id=shop_id, message_id=uuid.uuid4().hex, conversation_id=conv,
            buyer_id=f"b-{conv}", sender_kind="agent", sender_id=who, text=text,
            sent_at=T0 + timedelta(seconds=s),
        )  # fmt: skip

    abusive = buyer(c2, 60, "你们这群骗子，垃圾店")
    classified = MessageClassified(
        shop_id=shop_id, message_id=abusive.message_id, conversation_id=c2,
        buyer_id=abusive.buyer_id, intent="complaint", confidence=0.9, stage="aftersale",
        sentiment="angry", text_masked=abusive.text, sent_at=abusive.sent_at,
        classified_at=abusive.sent_at, risk_flags=["abuse"],
    )  # fmt: skip
    bad = agent(c1, 30, "a1", BAD_REPLY)
    events = [
        buyer(c1, 0), bad, buyer(c1, 100), agent(c1, 400, "a1", "好的亲，已经帮您备注了"),
        buyer(c2, 0), ConversationAssigned(
            shop_id=shop_id, conversation_id=c2, agent_id="a2",
            assigned_at=T0 + timedelta(seconds=5), reason="test",
        ),
        agent(c2, 20, "a2", "您好，请问有什么可以帮您"), abusive, classified,
        agent(c2, 90, "a2", "非常抱歉给您带来不便，我马上帮您处理"),
    ]  # fmt: skip
    window = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
    async with (
        collecting(infra.bootstrap, [FLAGGED]) as seen,
        metrics_api(infra) as (rt, client),
        publisher(infra.bootstrap) as pub,
    ):
        for e in events:
            await pub.event(e)
        await pub.record(await pub.event(agent(c1, 500, "a1", "好的")))  # a redelivery
        await idle(rt)
        await seen.caught_up()
        flags = [s.data for s in seen.of(FLAGGED, shop_id=shop_id)]
        by_rule = {f["rule_id"]: f for f in flags}
        assert sorted(by_rule) == ["ad_law.superlative", "off_platform.wechat", "slow_reply.3min"]
        assert len(flags) == 3  # once each, the redelivery added none
        wechat = by_rule["off_platform.wechat"]
        assert wechat["message_id"] == bad.message_id
        assert wechat["agent_id"] == "a1"
        assert wechat["severity"] == "block"
        assert BAD_REPLY[wechat["start"] : wechat["end"]] == "微信"
        assert wechat["suggestion"]
        assert datetime.fromisoformat(wechat["sent_at"]) == bad.sent_at
        slow = by_rule["slow_reply.3min"]
        assert slow["category"] == "slow_reply"
        assert slow["response_s"] == 300.0
        assert slow["message_id"] is None

        r = await client.get(
            f"/api/v1/shops/{shop_id}/quality/agents", params=window, headers=operator(infra)
        )
        assert r.status_code == 200, r.text
        agents = {a["agent_id"]: a for a in r.json()["agents"]}
        a1, a2 = agents["a1"], agents["a2"]
        assert a1["inspected_replies"] == 3
        assert (a1["flags_off_platform"], a1["flags_ad_law"], a1["flags_slow_reply"]) == (1, 1, 1)
        assert a1["flags_total"] == 3
        assert a1["scored_sessions"] == 1
        assert a1["failed_sessions"] == 1  # off_platform fails the conversation
        assert a1["score_avg"] == 100 - 40 - 10 - 5
        assert a2["inspected_replies"] == 2
        assert a2["flags_total"] == 0
        assert a2["score_avg"] == 100
        assert a2["failed_sessions"] == 0
        assert a2["exposure_abuse"] == 1
        assert a1["exposure_abuse"] == 0

        r = await client.get(
            f"/api/v1/shops/{shop_id}/quality/agents.csv", params=window, headers=operator(infra)
        )
        assert r.status_code == 200
        lines = r.text.splitlines()
        assert lines[0].startswith("agent_id,inspected_replies,flags_total,flags_ad_law")
        assert any(line.startswith("a1,3,3,1,1,") for line in lines)

        r = await client.get(
            f"/api/v1/shops/{shop_id}/quality/exposure", params=window, headers=operator(infra)
        )
        assert r.json()["days"] == [
            {"agent_id": "a2", "day": "2026-11-03", "abuse": 1, "threat": 0, "scam_attempt": 0}
        ]

        # The replay rebuilds facts and quality rows from the topics: they equal live.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ops.metrics_replay", "--shop", shop_id,
            cwd=ROOT, env={**os.environ, **infra.env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
        text = out.decode()
        assert proc.returncode == 0, text
        assert "replay equals live" in text, text
        compared = {line.split()[0] for line in text.splitlines() if line.endswith(" ok")}
        assert {"fact_quality_violations", "fact_risk_messages", "quality_flags",
                "quality_scores", "risk_exposures"} <= compared, text  # fmt: skip
        live = create_engine(infra.database_url, "metrics", pool_size=1)
        replayed = create_engine(infra.database_url, "metrics_replay", pool_size=1)
        try:
            end = T0 + timedelta(hours=1)
            async with live.connect() as lc, replayed.connect() as rc:
                want = await quality_queries.quality_totals(lc, shop_id, T0, end)
                got = await quality_queries.quality_totals(rc, shop_id, T0, end)
            assert [quality_kpis(t) for t in got.values()] == [
                quality_kpis(t) for t in want.values()
            ]
            assert {quality_kpis(t)["agent_id"]: quality_kpis(t) for t in got.values()} == agents
        finally:
            await live.dispose()
            await replayed.dispose()


async def test_pre_send_check(infra, shop_id: str) -> None:  # type: ignore[no-untyped-def]
    token = f"tok-{uuid.uuid4().hex}"
    async with metrics_api(infra, api_tokens=f"{shop_id}:{token}") as (_, client):
        url = f"/api/v1/shops/{shop_id}/quality/check"
        auth = {"Authorization": f"Bearer {token}"}
        r = await client.post(url, json={"text": BAD_REPLY}, headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["verdict"] == "block"
        assert body["rules_version"]
        spans = {v["rule_id"]: BAD_REPLY[v["start"] : v["end"]] for v in body["violations"]}
        assert spans == {"off_platform.wechat": "微信", "ad_law.superlative": "全网最"}
        assert all(v["suggestion"] for v in body["violations"])
        r = await client.post(url, json={"text": "最晚明天发货，第一次购买可以领券"}, headers=auth)
        assert r.json() == {
            "verdict": "ok",
            "violations": [],
            "rules_version": body["rules_version"],
        }
        assert (await client.post(url, json={"text": "好"})).status_code == 401
        other = f"/api/v1/shops/{shop_id}-other/quality/check"
        assert (await client.post(other, json={"text": "好"}, headers=auth)).status_code == 403
        r = await client.post(url, json={"text": "好" * 4001}, headers=auth)
        assert r.status_code == 422
        r = await client.get(f"/api/v1/shops/{shop_id}/quality/rules", headers=auth)
        assert {"off_platform.wechat", "personal_data.phone"} <= {
            x["rule_id"] for x in r.json()["rules"]
        }
