"""Messages sent to buyers in presale's batch (pure parts): a session kept alive, an agent's
answer kept for its gap, masked; nothing from system messages, closed or unknown chats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opentelemetry.context import Context

from services.presale.domain.conversation import Conversation
from services.presale.handlers.agent_messages import TOPIC, SentMessages
from services.presale.handlers.effects import SESSION_IDLE
from services.presale.handlers.messages import Loaded
from shared.batch import Item
from shared.cloudevents import Envelope
from shared.consumer import RawRecord
from shared.contracts import MessageSent

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
GAP = timedelta(minutes=30)


def sent(kind: str, at: datetime, text: str = "亲，在的", conv: str = "c1") -> Item:
    m = MessageSent(
        shop_id="s1", message_id=f"m-{kind}-{at.timestamp()}", conversation_id=conv,
        buyer_id="b1", sender_kind=kind, sender_id="agent-7", text=text, sent_at=at,
    )  # type: ignore[arg-type]  # fmt: skip
    env = Envelope(id=m.message_id, source="/tests", type=TOPIC, time=at, subject=None)
    return Item(RawRecord(TOPIC, 0, 1, None, None, []), {}, env, m, Context())


def state(conv_state: str = "assigned") -> Loaded:
    conv = Conversation("c1", "s1", "b1", conv_state, NOW, agent_id="agent-7")
    return Loaded({"c1": conv}, {})


def test_an_agents_message_keeps_the_session_alive_and_answers_its_gap() -> None:
    flow, s = SentMessages(GAP), state()
    later = NOW + timedelta(minutes=5)
    d = flow.decide(s, sent("agent", later, "亲，给您电话13812345678"), NOW)
    assert s.conversations["c1"].last_activity_at == NOW  # decide is pure
    assert d.changes.conversation is not None
    assert d.changes.conversation.last_activity_at == later
    assert [(t.kind, t.key, t.due_at) for t in d.effects.timers] == [
        (SESSION_IDLE, "c1", later + GAP)
    ]
    answer = d.changes.answer
    assert answer is not None
    assert "13812345678" not in answer.answer_masked
    assert (answer.at, answer.since, answer.agent_id) == (later, later - GAP, "agent-7")
    flow.apply(s, d)
    assert s.conversations["c1"].last_activity_at == later
    assert s.changed == {"c1"}
    assert s.answers == [answer]


def test_the_bot_keeps_the_session_alive_but_answers_no_gap() -> None:
    d = SentMessages(GAP).decide(state("bot"), sent("bot", NOW + timedelta(seconds=1)), NOW)
    assert d.changes.conversation is not None
    assert d.changes.answer is None


def test_nothing_moves_for_system_older_closed_or_unknown() -> None:
    flow = SentMessages(GAP)
    for d in (
        flow.decide(state(), sent("system", NOW + timedelta(minutes=1)), NOW),
        flow.decide(state(), sent("bot", NOW - timedelta(minutes=1)), NOW),
        flow.decide(state("closed"), sent("bot", NOW + timedelta(minutes=1)), NOW),
        flow.decide(state(), sent("bot", NOW + timedelta(minutes=1), conv="c-unknown"), NOW),
    ):
        assert d.changes.conversation is None
        assert d.effects.timers == []
    closed_agent = flow.decide(state("closed"), sent("agent", NOW + timedelta(minutes=1)), NOW)
    assert closed_agent.changes.answer is not None  # the gap is still answered
