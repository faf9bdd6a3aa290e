"""A buyer's chat through the real broker and database: answers, routing, closing, bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.presale.app import build_runtime
from services.presale.domain.conversation import RECENT_TEXTS
from services.presale.store import tables
from shared.clock import FakeClock
from shared.contracts import AgentStatusChanged, MessageReceived
from shared.ids import new_id
from shared.runtime import ServiceRuntime
from simulator import catalog
from tests.presale.integration.conftest import START, eventually, settings_for
from tests.support.kafka import collecting, publisher
from tests.support.runtime import started

DEMO = Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml"
TOPICS = [
    "cs.message.classified.v1",
    "cs.reply.requested.v1",
    "cs.conversation.assigned.v1",
    "cs.conversation.closed.v1",
]


@pytest.fixture
async def presale_with_kb(
    infra: Any, shop_id: str, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    """Presale that loads a KB file at start-up (PRESALE_KB_FILES), as the local stack does."""
    kb_file = tmp_path / "kb.yaml"
    kb_file.write_text(DEMO.read_text().replace("shop_id: shop-demo", f"shop_id: {shop_id}", 1))
    settings = settings_for(infra, shop_id, presale_kb_files=f"{kb_file},{tmp_path}/missing.yaml")
    async with started(build_runtime(settings, clock=clock)) as runtime:
        yield runtime


async def test_a_buyers_chat(
    infra: Any, presale_with_kb: ServiceRuntime, shop_id: str, clock: FakeClock
) -> None:
    conv, buyer = f"conv-{new_id()}", f"buyer-{new_id()}"
    dress = catalog.ITEMS[0].item_id
    texts = [
        ("你好", None),
        ("包邮吗", None),
        ("身高160体重100斤穿什么码", dress),
        ("我的快递到哪了", None),
        ("好的", None),
        ("我电话13812345678 转人工", None),
    ]
    async with collecting(infra.bootstrap, TOPICS) as seen, publisher(infra.bootstrap) as pub:
        ids = []
        for i, (text, item) in enumerate(texts):
            ids.append(new_id())
            await pub.event(MessageReceived(
                shop_id=shop_id, message_id=ids[-1], conversation_id=conv, buyer_id=buyer,
                text=text, sent_at=START + timedelta(seconds=i), item_id=item,
            ))  # fmt: skip
        classified = await seen.wait_count("cs.message.classified.v1", 6, conversation_id=conv)
        by_msg = {c.data["message_id"]: c.data for c in classified}
        assert by_msg[ids[3]]["stage"] == "insale"
        assert "13812345678" not in by_msg[ids[5]]["text_masked"]
        replies = await seen.wait_count("cs.reply.requested.v1", 4, conversation_id=conv)
        got = {r.data["in_reply_to"]: r.data for r in replies}
        assert set(got) == {ids[0], ids[1], ids[2], ids[5]}  # no reply to insale nor to 好的
        assert "欢迎光临" in got[ids[0]]["text"]
        assert "全国包邮" in got[ids[1]]["text"]
        assert "M码" in got[ids[2]]["text"]
        assert got[ids[5]]["kind"] == "handoff_notice"
        assert "排队" in got[ids[5]]["text"]
        assert {r["kb_version"] for r in got.values()} == {1}

        async with presale_with_kb.engine.connect() as c:
            row = (await c.execute(select(tables.conversations).where(
                tables.conversations.c.conversation_id == conv))).one()  # fmt: skip
        assert row.state == "queued"
        assert "13812345678" not in json.dumps(row.recent_texts, ensure_ascii=False)
        assert len(row.recent_texts) == RECENT_TEXTS

        await pub.event(AgentStatusChanged(
            shop_id=shop_id, agent_id=f"agent-{new_id()}", status="online",
            skills=["presale"], max_concurrent=2, changed_at=START,
        ))  # fmt: skip
        (assigned,) = await seen.wait_count("cs.conversation.assigned.v1", 1, conversation_id=conv)
        assert assigned.data["reason"] == "presale:human_agent"
        assert assigned.data["queued_for_s"] == 0.0  # the fake clock has not moved

        clock.advance(timedelta(minutes=31))
        await presale_with_kb.timer_runner.fire_due()
        (closed,) = await seen.wait_count("cs.conversation.closed.v1", 1, conversation_id=conv)
        assert closed.data["agent_id"] == assigned.data["agent_id"]


async def _dead_letters(infra: Any, shop_id: str, bad: list[tuple[bytes, dict[str, str]]],
                        timeout: float = 20.0) -> list[str]:  # fmt: skip
    """Publish bad records under one key; return the dead-letter reasons seen for it."""
    dlq = "cs.message.received.v1.dlq"
    marker = new_id()
    good = MessageReceived(shop_id=shop_id, message_id=marker, conversation_id=f"c-{marker}",
                           buyer_id="b", text="在吗", sent_at=START)  # fmt: skip
    async with collecting(infra.bootstrap, [dlq]) as seen, publisher(infra.bootstrap) as pub:
        template = (await pub.event(good, event_id=f"ok-{marker}")).headers
        for i, (value, headers) in enumerate(bad):
            await pub.raw("cs.message.received.v1", value, key=marker,
                          headers={**template, "ce_id": f"bad-{i}-{marker}", **headers})  # fmt: skip
        await seen.wait_for(lambda c: len([s for s in c.of(dlq) if s.key == marker]) >= len(bad),
                            timeout, what=f"{len(bad)} dead letters")  # fmt: skip
        return [s.headers["x-dlq-reason"] for s in seen.of(dlq) if s.key == marker]


def _payload(**changes: Any) -> bytes:
    base = json.loads(MessageReceived(
        shop_id="s", message_id="m", conversation_id="c", buyer_id="b", text="在吗",
        sent_at=START).model_dump_json())  # fmt: skip
    base.update(changes)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


async def test_bad_input_is_dead_lettered_with_the_reason(
    infra: Any, presale_with_kb: ServiceRuntime, shop_id: str
) -> None:
    reasons = await _dead_letters(infra, shop_id, [
        (b"{not json", {"content-type": "text/plain"}),
        (_payload(text=None), {}),
        (_payload(sent_at="2026-11-28T09:00:00"), {}),
        (_payload(buyer_level="svip"), {}),
        (_payload(text="x" * 2001), {}),
    ])  # fmt: skip
    assert len(reasons) == 5
    assert any("text" in r and "Field required" in r for r in reasons), reasons
    assert any("timezone" in r for r in reasons), reasons
    assert any("buyer_level" in r for r in reasons), reasons
    assert any("2000" in r for r in reasons), reasons


async def test_malformed_json_declared_as_json_is_dead_lettered(
    infra: Any, presale_with_kb: ServiceRuntime, shop_id: str
) -> None:
    await _dead_letters(infra, shop_id, [(b"{not json", {})], timeout=5)


async def test_kb_is_loaded_at_start_up_only_when_absent(
    presale_with_kb: ServiceRuntime, shop_id: str
) -> None:
    from services.presale.app import seed_kbs
    from services.presale.store import kb as repository

    async def loaded() -> bool:
        async with presale_with_kb.engine.connect() as c:
            return await repository.latest_version(c, shop_id) == 1

    await eventually(loaded, what="the start-up KB")
    kb_file = Path(presale_with_kb.settings.presale_kb_files.split(",")[0])  # type: ignore[attr-defined]
    await seed_kbs(presale_with_kb.engine, [kb_file])  # a second replica starting
    async with presale_with_kb.engine.connect() as c:
        assert await repository.latest_version(c, shop_id) == 1
