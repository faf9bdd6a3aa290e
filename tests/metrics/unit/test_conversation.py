"""Sessions, rounds and first responses: each rule of KPIS.md "Building blocks"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.metrics.domain.conversation import derive
from services.metrics.domain.model import UNASSIGNED, Assignment, Message

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
GAP = timedelta(minutes=30)
_n = iter(range(1_000_000))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def buyer(s: float, mid: str | None = None) -> Message:
    return Message(at(s), "buyer", mid or f"b{next(_n):06d}", None, "buyer-1")


def agent(s: float, who: str = "a1", mid: str | None = None) -> Message:
    return Message(at(s), "agent", mid or f"o{next(_n):06d}", who, "buyer-1")


def bot(s: float) -> Message:
    return Message(at(s), "bot", f"o{next(_n):06d}", "bot", "buyer-1")


def system(s: float) -> Message:
    return Message(at(s), "system", f"o{next(_n):06d}", None, "buyer-1")


def assign(s: float, who: str) -> Assignment:
    return Assignment(at(s), who, f"e{next(_n):06d}")


def test_round_opens_at_first_buyer_message_and_closes_at_next_answer() -> None:
    d = derive([buyer(0), buyer(20), agent(50), buyer(60), agent(100, "a2")], [], GAP)
    assert [(r.opened_at, r.closed_at, r.responder) for r in d.rounds] == [
        (at(0), at(50), "a1"),
        (at(60), at(100), "a2"),
    ]
    assert [r.response_us for r in d.rounds] == [50_000_000, 40_000_000]
    assert len(d.sessions) == 1


def test_agent_messages_without_open_round_close_nothing() -> None:
    d = derive([buyer(0), agent(10), agent(20), agent(30)], [], GAP)
    assert len(d.rounds) == 1


def test_gap_just_under_session_gap_keeps_the_session() -> None:
    almost = GAP.total_seconds() - 0.000001
    d = derive([buyer(0), agent(almost)], [], GAP)
    assert len(d.sessions) == 1
    assert d.rounds[0].answered


def test_gap_of_exactly_session_gap_starts_a_new_session() -> None:
    d = derive([buyer(0), agent(GAP.total_seconds())], [], GAP)
    # the answer falls into a new session that has no buyer message: it is outbound contact
    assert len(d.sessions) == 1
    assert [r.answered for r in d.rounds] == [False]
    assert d.rounds[0].responder == UNASSIGNED
    assert d.touches == []


def test_gap_is_measured_from_the_previous_message_of_any_side() -> None:
    d = derive([buyer(0), agent(1700), buyer(3400), agent(3500)], [], GAP)
    assert len(d.sessions) == 1  # each message < 30 min after the previous one


def test_outbound_contact_before_the_first_buyer_message_is_ignored() -> None:
    d = derive([agent(0, "a9"), agent(10, "a9"), buyer(20), agent(80, "a1")], [], GAP)
    assert d.sessions[0].start == at(20)
    assert [p.responder for p in d.session_responders] == ["a1"]
    assert [t.responder for t in d.touches] == ["a1"]
    assert d.rounds[0].response_us == 60_000_000


def test_outbound_only_chain_is_not_a_session() -> None:
    d = derive([agent(0), agent(10)], [], GAP)
    assert d.sessions == []
    assert d.rounds == []
    assert d.touches == []


def test_system_messages_open_close_and_count_nothing() -> None:
    d = derive([buyer(0), system(10), agent(40)], [], GAP)
    assert d.rounds[0].closed_at == at(40)
    # a system message does not keep the session alive either
    d = derive([buyer(0), system(1700), agent(1900)], [], GAP)
    assert [r.answered for r in d.rounds] == [False]
    assert len(d.sessions) == 1


def test_same_instant_buyer_first_then_by_message_id() -> None:
    d = derive([agent(5, mid="m1"), buyer(5, mid="m2")], [], GAP)
    assert d.rounds[0].answered
    assert d.rounds[0].response_us == 0
    d = derive([agent(10, "a2", mid="z"), agent(10, "a1", mid="y"), buyer(0)], [], GAP)
    assert d.rounds[0].responder == "a1"  # "y" < "z"


def test_unanswered_round_belongs_to_agent_assigned_when_it_opened() -> None:
    d = derive([buyer(100)], [assign(50, "a1"), assign(150, "a2")], GAP)
    assert d.rounds[0].responder == "a1"
    assert not d.rounds[0].answered


def test_unanswered_round_with_assignment_at_the_same_instant() -> None:
    d = derive([buyer(100)], [assign(100, "a3")], GAP)
    assert d.rounds[0].responder == "a3"


def test_unanswered_round_without_assignment_is_unassigned() -> None:
    d = derive([buyer(100), bot(110), buyer(120)], [assign(130, "a1")], GAP)
    assert [(r.responder, r.answered) for r in d.rounds] == [("bot", True), (UNASSIGNED, False)]


def test_first_response_clock_starts_at_the_hand_off_to_the_agent() -> None:
    d = derive([buyer(0), bot(5), buyer(60), agent(200, "a1")], [assign(100, "a1")], GAP)
    parts = {p.responder: p for p in d.session_responders}
    assert parts["bot"].first_response_us == 5_000_000
    assert parts["a1"].clock_start == at(100)
    assert parts["a1"].first_response_us == 100_000_000


def test_first_response_uses_last_assignment_to_that_agent_before_its_first_message() -> None:
    msgs = [buyer(0), buyer(60), agent(300, "a2"), agent(400, "a1")]
    assigns = [assign(30, "a1"), assign(100, "a2"), assign(200, "a1"), assign(350, "a2")]
    parts = {p.responder: p for p in derive(msgs, assigns, GAP).session_responders}
    assert parts["a1"].clock_start == at(200)  # reassigned back to a1 at 200
    assert parts["a2"].clock_start == at(100)  # 350 is after a2's first message


def test_assignment_before_the_session_does_not_start_the_clock() -> None:
    msgs = [buyer(0), agent(10), buyer(4000), agent(4100, "a1")]
    parts = derive(msgs, [assign(20, "a1")], GAP).session_responders
    second = next(p for p in parts if p.session_start == at(4000))
    assert second.clock_start == at(4000)


def test_reassignment_moves_a_later_unanswered_round() -> None:
    msgs = [buyer(0), agent(30, "a1"), buyer(600)]
    d = derive(msgs, [assign(10, "a1"), assign(500, "a2")], GAP)
    assert d.rounds[1].responder == "a2"
    assert not d.rounds[1].answered


def test_bot_resolved_session() -> None:
    d = derive([buyer(0), bot(1), buyer(10), bot(11)], [], GAP)
    assert d.sessions[0].bot_resolved
    d = derive([buyer(0), bot(1), buyer(10)], [assign(9, "a1")], GAP)
    assert not d.sessions[0].bot_resolved  # a hand-off inside the session
    d = derive([buyer(0), bot(1), agent(10)], [], GAP)
    assert not d.sessions[0].bot_resolved


def test_assignment_after_last_message_is_not_inside() -> None:
    # KPIS.md taken literally: "inside" ends at the session's last message
    d = derive([buyer(0), bot(1), buyer(10)], [assign(12, "a1")], GAP)
    assert d.sessions[0].bot_resolved
    assert d.rounds[-1].responder == UNASSIGNED  # opened at 10, before the hand-off


def test_order_of_arrival_does_not_matter() -> None:
    msgs = [buyer(0), bot(3), buyer(9), agent(40, "a1"), buyer(5000), agent(5100, "a2")]
    assigns = [assign(20, "a1"), assign(5050, "a2")]
    assert derive(msgs, assigns, GAP) == derive(msgs[::-1], assigns[::-1], GAP)


def test_session_start_and_last_message() -> None:
    d = derive([agent(0), buyer(10), agent(30), buyer(40), agent(90)], [], GAP)
    s = d.sessions[0]
    assert (s.start, s.last_at) == (at(10), at(90))
    assert all(r.session_last_at == at(90) for r in d.rounds)
