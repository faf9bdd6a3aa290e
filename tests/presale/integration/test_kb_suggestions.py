"""The insight loop through the real broker and database: buyers' unanswered questions and the
agents' replies become KB suggestions; the review API and the KB CLI accept and reject them;
an accepted one answers the next buyer at once."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.presale.app import build_runtime
from services.presale.domain.gaps import GapAnswer, Unanswered, gap_answer
from services.presale.store import gaps, tables
from shared.clock import FakeClock
from shared.contracts import MessageReceived, MessageSent
from shared.ids import new_id
from shared.runtime import ServiceRuntime
from tests.presale.integration.conftest import (
    OPERATOR_TOKEN,
    SHOP_TOKEN,
    START,
    count_rows,
    eventually,
    settings_for,
)
from tests.support.cli import run_main
from tests.support.kafka import Publisher, collecting, publisher
from tests.support.runtime import started
from tools.presale.kb.__main__ import main as kb_cli

DEMO = Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml"
ROOT = Path(__file__).parents[3]
STORE = "我们只在天猫开店，没有线下实体店"
GENUINE = "店里都是自家工厂生产的原创正品，支持验货，假一赔三"
DRESS = "60181234001"


@pytest.fixture
async def presale_with_kb(
    infra: Any, shop_id: str, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    kb_file = tmp_path / "kb.yaml"
    kb_file.write_text(DEMO.read_text().replace("shop_id: shop-demo", f"shop_id: {shop_id}", 1))
    settings = settings_for(infra, shop_id, presale_kb_files=str(kb_file))
    async with started(build_runtime(settings, clock=clock)) as runtime:
        yield runtime


def auth(token: str = SHOP_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ask(
    pub: Publisher, shop_id: str, conv: str, buyer: str, text: str, at: int, item: str | None = None
) -> str:
    message_id = new_id()
    await pub.event(MessageReceived(
        shop_id=shop_id, message_id=message_id, conversation_id=conv, buyer_id=buyer, text=text,
        sent_at=START + timedelta(seconds=at), item_id=item,
    ))  # fmt: skip
    return message_id


async def agent_says(
    pub: Publisher, shop_id: str, conv: str, buyer: str, text: str, at: int
) -> None:
    await pub.event(MessageSent(
        shop_id=shop_id, message_id=new_id(), conversation_id=conv, buyer_id=buyer,
        sender_kind="agent", sender_id="agent-7", text=text,
        sent_at=START + timedelta(seconds=at),
    ))  # fmt: skip


async def test_unanswered_questions_become_suggestions_to_accept_and_reject(
    infra: Any, presale_with_kb: ServiceRuntime, shop_id: str
) -> None:
    runtime = presale_with_kb
    chats = [("有实体店吗", f"亲,{STORE}哦~"), ("线下有实体店吗?", f"亲亲,{STORE}呢"),
             ("亲 有实体店吗😊", f"{STORE}"), ("你们实体店在哪里 电话13812345678", f"亲,{STORE}"),
             ("是正品吗", f"亲,{GENUINE}"), ("保证是正品吗", GENUINE),
             ("正品有保障吗", f"亲,{GENUINE}~")]  # fmt: skip
    topics = ["cs.reply.requested.v1"]
    async with collecting(infra.bootstrap, topics) as seen, publisher(infra.bootstrap) as pub:
        for i, (question, answer) in enumerate(chats):
            item = DRESS if GENUINE in answer else None  # 正品 is asked on the dress's page
            await ask(pub, shop_id, f"conv-{shop_id}-{i}", f"buyer-{i}", question, i, item)
        for i in range(len(chats)):
            await seen.wait_count("cs.reply.requested.v1", 1, conversation_id=f"conv-{shop_id}-{i}")
        for i, (_, answer) in enumerate(chats):
            await agent_says(pub, shop_id, f"conv-{shop_id}-{i}", f"buyer-{i}", answer, 60 + i)
        g = tables.kb_gaps

        async def answered() -> int:
            where = (g.c.shop_id == shop_id, g.c.answer_masked.is_not(None))
            return await count_rows(runtime.engine, g, *where)

        await eventually(answered, until=len(chats), what="every gap answered by the agent")
        async with runtime.engine.connect() as conn:
            texts = (
                await conn.execute(select(g.c.text_masked).where(g.c.shop_id == shop_id))
            ).all()
        assert all("13812345678" not in t.text_masked for t in texts)

        transport = httpx.ASGITransport(app=runtime.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://presale") as api:
            base = f"/api/v1/shops/{shop_id}/kb/suggestions"
            assert (await api.get(base)).status_code == 401
            assert (
                await api.get("/api/v1/shops/other/kb/suggestions", headers=auth())
            ).status_code == 403
            assert (await api.get(base, headers=auth())).json()["suggestions"] == []
            r = await api.post(f"{base}/refresh", headers=auth())
            assert r.json() == {"shop_id": shop_id, "pending": 2}
            listed = (await api.get(base, headers=auth(OPERATOR_TOKEN))).json()
            first, second = listed["suggestions"]
            assert (first["rank"], first["buyers"], first["handoffs"]) == (1, 4, 4)
            assert first["answer"] == STORE
            assert {e["text"] for e in first["examples"]} >= {"有实体店吗", "线下有实体店吗?"}
            assert all("13812345678" not in e["text"] for e in first["examples"])
            assert (second["rank"], second["buyers"], second["answer"]) == (2, 3, GENUINE)
            assert second["item_id"] == DRESS
            assert listed["counts"] == {"pending": 2}

            edited = "我们只在天猫开店，没有线下门店"
            r = await api.post(f"{base}/{first['suggestion_id']}/accept", headers=auth(),
                               json={"answer": edited})  # fmt: skip
            assert r.status_code == 200, r.text
            assert r.json()["kb_version"] == 2
            assert r.json()["suggestion"]["status"] == "accepted"
            again = await api.post(f"{base}/{first['suggestion_id']}/accept", headers=auth())
            assert again.status_code == 409
            assert (await api.post(f"{base}/nope/reject", headers=auth())).status_code == 404
            r = await api.post(f"{base}/{second['suggestion_id']}/reject", headers=auth())
            assert r.json()["status"] == "rejected"

            kb = (await api.get(f"/api/v1/shops/{shop_id}/kb", headers=auth())).json()
            faq = next(f for f in kb["kb"]["faqs"] if f["faq_id"].startswith("suggested-"))
            assert (faq["answer"], faq["match"]) == (edited, "keywords")

            assert (await api.post(f"{base}/refresh", headers=auth())).json()["pending"] == 0
            every = (await api.get(f"{base}?status=all", headers=auth())).json()
            assert every["counts"] == {"accepted": 1, "rejected": 1}

        # the next buyer asking is answered by the bot, from the new KB version
        conv = f"conv-{shop_id}-new"
        asked = await ask(pub, shop_id, conv, "buyer-new", "有没有实体店呀", 300)
        (reply,) = await seen.wait_count("cs.reply.requested.v1", 1, conversation_id=conv)
        assert reply.data["in_reply_to"] == asked
        assert reply.data["kind"] == "auto_answer"
        assert edited in reply.data["text"]
        assert reply.data["kb_version"] == 2


async def test_the_kb_cli_lists_accepts_and_rejects(
    infra: Any, shop_id: str, tmp_path: Path
) -> None:
    runtime = build_runtime(settings_for(infra, shop_id))
    env = {"DATABASE_URL": infra.database_url}

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return await run_main(kb_cli, list(args), env)  # `python -m tools.presale.kb …`

    kb_file = tmp_path / "kb.yaml"
    kb_file.write_text(DEMO.read_text().replace("shop_id: shop-demo", f"shop_id: {shop_id}", 1))
    assert (await cli("load", str(kb_file))).returncode == 0
    now = datetime.now(UTC)  # the CLI's clock is the wall clock (no CLOCK_SPEED here)
    rows = [
        {"message_id": f"{shop_id}-{i}", "shop_id": shop_id, "conversation_id": f"c{i}",
         "buyer_id": f"b{i}", "item_id": None, "intent": "other", "confidence": 0.3,
         "reason": "low_confidence", "text_masked": text, "asked_at": now,
         "answer_masked": answer, "answered_by": "agent-1", "answered_at": now}
        for i, (text, answer) in enumerate(
            [("有实体店吗", STORE)] * 3 + [("是正品吗", GENUINE)] * 3
        )
    ]  # fmt: skip
    async with runtime.engine.begin() as conn:
        # answered gaps, as link_replies leaves them
        await conn.execute(tables.kb_gaps.insert(), rows)
    await runtime.engine.dispose()

    refreshed = await cli("suggestions", "refresh", "--shop", shop_id)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "2 pending suggestions" in refreshed.stdout
    listed = await cli("suggestions", "list", "--shop", shop_id)
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2
    ids = {line.split("\t")[-2].removeprefix("→ "): line.split("\t")[1] for line in lines}
    accepted = await cli("suggestions", "accept", ids[STORE], "--shop", shop_id)
    assert accepted.returncode == 0, accepted.stderr
    assert f"{shop_id} KB version 2" in accepted.stdout
    rejected = await cli("suggestions", "reject", ids[GENUINE], "--shop", shop_id)
    assert rejected.returncode == 0, rejected.stderr
    twice = await cli("suggestions", "reject", ids[GENUINE], "--shop", shop_id)
    assert twice.returncode == 3
    assert "already rejected" in twice.stderr
    every = await cli("suggestions", "list", "--shop", shop_id, "--status", "all")
    assert sorted(line.split("\t")[2] for line in every.stdout.strip().splitlines()) == [
        "accepted", "rejected"
    ]  # fmt: skip
    shown = await cli("show", "--shop", shop_id)
    assert STORE in shown.stdout


async def test_a_batchs_agent_replies_link_like_one_by_one(
    infra: Any, presale_with_kb: ServiceRuntime, shop_id: str
) -> None:
    """`link_replies` links a whole batch's replies in one statement: each to the latest gap
    of its conversation before it, unanswered and within SESSION_GAP; two replies finding
    the same gap leave it to the first in the batch's order."""
    asked = {"q1": 0, "q2": 100, "q3": 0}
    convs = {"q1": "c-a", "q2": "c-a", "q3": "c-b"}
    rows = [
        Unanswered(f"{shop_id}-{q}", shop_id, f"{shop_id}-{convs[q]}", "b", None, "other", 0.2,
                   "low_confidence", {}, q, START + timedelta(seconds=s))
        for q, s in asked.items()
    ]  # fmt: skip
    within = timedelta(minutes=30)

    def reply(conv: str, text: str, at: int, agent: str = "agent-1") -> GapAnswer:
        return gap_answer(f"{shop_id}-{conv}", text, agent, START + timedelta(seconds=at), within)

    async with presale_with_kb.engine.begin() as conn:
        await gaps.save_gaps(conn, rows)
        linked = await gaps.link_replies(conn, [
            reply("c-a", "first on q1", 50),      # q1 (q2 is later)
            reply("c-a", "second on q1", 60),     # q1 again: the first keeps it
            reply("c-a", "on q2 电话13812345678", 150),  # q2, masked
            reply("c-b", "too late", 3 * 3600),   # q3 is older than SESSION_GAP
            reply("c-x", "no gap at all", 10),
        ])  # fmt: skip
        got = {
            r.message_id.removeprefix(f"{shop_id}-"): (r.answer_masked, r.answered_by)
            for r in await conn.execute(
                select(tables.kb_gaps).where(tables.kb_gaps.c.shop_id == shop_id)
            )
        }
    assert linked == 2
    assert got["q1"] == ("first on q1", "agent-1")
    assert got["q2"][0] is not None
    assert "13812345678" not in got["q2"][0]
    assert got["q3"] == (None, None)
