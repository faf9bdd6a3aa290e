"""A conversation's quality flags, session scores and risk exposures (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.metrics.domain.conversation import derive
from services.metrics.domain.model import Assignment, Message
from services.metrics.domain.quality.inspection import (
    RiskFact,
    ViolationFact,
    exposures,
    flags,
    session_scores,
)

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
GAP = timedelta(minutes=30)
WEIGHTS = {"ad_law": 10, "off_platform": 40, "slow_reply": 5}
FAIL = {"off_platform"}


def at(s: int) -> datetime:
    return T0 + timedelta(seconds=s)


def buyer(s: int, mid: str) -> Message:
    return Message(at(s), "buyer", mid, None, "b")


def agent(s: int, mid: str, who: str) -> Message:
    return Message(at(s), "agent", mid, who, "b")


def violation(mid: str, who: str, s: int, category: str = "ad_law") -> ViolationFact:
    return ViolationFact(mid, who, f"{category}.x", category, "warn", 0, 2, "fix", "v1", at(s))


def test_slow_replies_and_findings_become_flags_scored_per_agent_and_session() -> None:
    messages = [
        buyer(0, "m1"), agent(30, "m2", "a1"),  # answered in 30 s
        buyer(100, "m3"), agent(400, "m4", "a1"),  # 300 s: slow
        buyer(500, "m5"), Message(at(510), "bot", "m6", "bot", "b"),  # the bot is never slow
        buyer(4000, "m7"), agent(4010, "m8", "a2"),  # a new session (gap), a2
    ]  # fmt: skip
    d = derive(messages, [], GAP)
    found = flags("s", "c", [violation("m2", "a1", 30), violation("m8", "a2", 4010, "off_platform")],
                  d.rounds, d.touches, "v1")  # fmt: skip
    by_rule = {(f.agent_id, f.category) for f in found}
    assert by_rule == {("a1", "ad_law"), ("a1", "slow_reply"), ("a2", "off_platform")}
    slow = next(f for f in found if f.category == "slow_reply")
    assert slow.response_us == 300_000_000
    assert slow.message_id is None
    assert slow.at == at(400)
    again = flags("s", "c", [violation("m2", "a1", 30)], d.rounds, d.touches, "v1")
    assert {f.flag_id for f in again} <= {f.flag_id for f in found}  # ids are deterministic
    scores = {
        (s.agent_id, s.session_start): s for s in session_scores(d.touches, found, WEIGHTS, FAIL)
    }
    a1 = scores[("a1", at(0))]
    assert (a1.replies, a1.flags, a1.score, a1.failed) == (2, 2, 85, False)
    a2 = scores[("a2", at(4000))]
    assert (a2.replies, a2.score, a2.failed) == (1, 60, True)
    assert ("bot", at(0)) not in scores


def test_exposure_goes_to_the_agent_holding_it_else_the_next_one_in_the_session() -> None:
    messages = [buyer(0, "m1"), buyer(60, "m2"), agent(120, "m3", "a2"), buyer(130, "m4")]
    assignments = [Assignment(at(100), "a2", "e1")]
    d = derive(messages, assignments, GAP)
    risks = [
        RiskFact("m2", ("abuse", "scam_attempt"), at(60)),
        RiskFact("m4", ("threat",), at(130)),
    ]
    got = {
        (e.message_id, e.flag, e.agent_id)
        for e in exposures(risks, d.sessions, assignments, d.touches)
    }
    assert got == {("m2", "abuse", "a2"), ("m2", "scam_attempt", "a2"), ("m4", "threat", "a2")}
    bot_only = derive([buyer(0, "m1"), Message(at(5), "bot", "m2", "bot", "b")], [], GAP)
    assert (
        exposures([RiskFact("m1", ("abuse",), at(0))], bot_only.sessions, [], bot_only.touches)
        == []
    )
