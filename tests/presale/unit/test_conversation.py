"""What one buyer message does to its conversation (pure), and batch routing order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.presale.domain.answers import Handoff, Reply
from services.presale.domain.conversation import Conversation, on_message
from services.presale.domain.routing import AgentLoad, Waiting, assign_in_order

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
GAP = timedelta(minutes=30)


def message(conv: Conversation | None, text: str, at: datetime = NOW, **kw: object):  # type: ignore[no-untyped-def]
    return on_message(
        conv, conversation_id="c1", shop_id="s1", buyer_id="b1", buyer_level=None, text=text,
        item_id=None, sent_at=at, kb=None, now=NOW, session_gap=GAP, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_new_conversation_starts_with_the_bot_and_arms_its_idle_timer() -> None:
    out = message(None, "你好")
    assert out.conversation.state == "bot"
    assert isinstance(out.decision, Reply)
    assert out.idle_due == NOW + GAP
    assert out.conversation.recent_texts == ("你好",)


def test_a_hand_off_leaves_the_conversation_queued_for_routing() -> None:
    out = message(None, "我电话13812345678 转人工")
    assert isinstance(out.decision, Handoff)
    c = out.conversation
    assert (c.state, c.skill, c.reason, c.queued_at) == (
        "queued",
        "presale",
        "presale:human_agent",
        NOW,
    )
    assert "13812345678" not in c.recent_texts[-1]


def test_a_human_keeps_the_conversation_and_a_closed_one_reopens() -> None:
    queued = message(None, "转人工").conversation
    later = message(queued, "还在吗", NOW + timedelta(minutes=1))
    assert later.decision is None
    assert later.conversation.state == "queued"
    closed = Conversation("c1", "s1", "b1", "closed", NOW - timedelta(hours=2))
    assert message(closed, "你好").conversation.state == "bot"
    old = message(closed, "你好", NOW - timedelta(hours=3)).conversation
    assert old.last_activity_at == NOW - timedelta(hours=2)  # activity time only moves on


def test_batch_routing_keeps_the_given_order_and_capacity() -> None:
    agents = [AgentLoad("a1", "online", frozenset({"presale"}), 1, 0),
              AgentLoad("a2", "online", frozenset({"presale"}), 1, 0)]  # fmt: skip
    waiting = [Waiting(f"c{i}", "presale", p, NOW) for i, p in enumerate((1, 3, 1, 3))]
    ordered = sorted(waiting, key=lambda w: -w.priority)
    plan = assign_in_order(ordered, agents)
    assert [w.conversation_id for w, _ in plan] == ["c1", "c3"]
    assert sorted(a for _, a in plan) == ["a1", "a2"]
