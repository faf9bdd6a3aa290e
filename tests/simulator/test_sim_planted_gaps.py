"""Planted gaps: buyers ask what the demo KB leaves out, and agents answer it consistently."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from services.presale.domain.textsim import compact
from services.presale.kb.loading import read_file
from shared.contracts import ConversationAssigned, MessageReceived
from simulator import catalog, gaps
from simulator.agents import AgentDesk, roster
from simulator.scenario import Planned, generate

START = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
DEMO_KB = read_file(Path(__file__).parents[2] / "services/presale/kb/shop-demo.yaml")


def planted(seed: int) -> list[Planned]:
    return [e for e in generate(seed, START, 24).events
            if isinstance(e, Planned) and e.gap is not None]  # fmt: skip


def test_every_planted_gap_is_asked_often_and_only_about_items_it_fits() -> None:
    asked = planted(7)
    counts = Counter(e.gap for e in asked)
    assert set(counts) == {g.key for g in gaps.PLANTED}
    assert all(counts[g.key] >= 10 for g in gaps.PLANTED if not g.kinds)  # any item: often
    # one item's gap (the dress's pockets) is asked in that item's chats only: a few a day
    for e in asked:
        assert isinstance(e.payload, MessageReceived)
        assert e.topic == "cs.message.received.v1"
        item = catalog.item(e.payload.item_id or "")
        assert gaps.applies(gaps.BY_KEY[e.gap or ""], item)
        assert e.intent == gaps.BY_KEY[e.gap or ""].label


def test_the_demo_kb_does_not_hold_the_planted_answers() -> None:
    known = " ".join([f.answer for f in DEMO_KB.faqs]
                     + [v for p in DEMO_KB.products for v in p.specs.values()])  # fmt: skip
    for g in gaps.PLANTED:
        assert compact(g.answer) not in compact(known), g.key


def test_planting_keeps_the_rest_of_the_day_and_is_deterministic() -> None:
    assert [e.payload for e in planted(7)] == [e.payload for e in planted(7)]
    day = [e for e in generate(7, START, 24).events if isinstance(e, Planned) and e.gap is None]
    assert len(day) > 1000  # the planted questions are extra: the usual day is all there


def test_agents_answer_a_planted_gap_with_its_answer() -> None:
    profiles = {a.agent_id: a for a in roster(random.Random(1))}
    desk = AgentDesk("shop-demo", profiles, random.Random(2))
    agent = next(iter(profiles))
    msg = MessageReceived(shop_id="shop-demo", message_id="m1", conversation_id="c1",
                          buyer_id="AAFx", text="有实体店吗", sent_at=START)  # fmt: skip
    desk.on_buyer_message(msg, "other", "store")
    desk.on_assigned(ConversationAssigned(
        shop_id="shop-demo", conversation_id="c1", buyer_id="AAFx", agent_id=agent,
        assigned_at=START, reason="presale:low_confidence",
    ))  # fmt: skip
    reply = desk.reply("c1", agent, START)
    assert reply is not None
    assert gaps.BY_KEY["store"].answer in reply.text
