"""The refund, review and question flows as pure decisions on a loaded `Book`: no broker, no
database — what a decision emits, arms and changes, and that the book only changes on apply."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.aftersale.domain import questions, refunds, reviews
from services.aftersale.domain.book import Book, NotLoaded, View
from services.aftersale.domain.effects import (
    REFUND_ALERT,
    REFUND_DECIDE,
    REFUND_SLA,
    Config,
    Out,
    Turn,
)
from services.aftersale.domain.model import Signal, refund_case_id
from services.aftersale.domain.rules import RuleBook
from services.aftersale.rules_loader import default_rules
from shared.contracts import (
    CaseResolved,
    HandoffRequested,
    OrderAlert,
    RefundDecided,
    ReplyRequested,
)
from tests.aftersale.factories import (
    SHANGHAI,
    T0,
    classified,
    order,
    refund,
    refund_change,
    review,
)

CFG = Config(rules=RuleBook(default_rules()), tz=SHANGHAI)
SHOP, BUYER = "shop-1", "buyer-1"


def book(*buyers: tuple[str, str]) -> Book:
    return Book(buyers={(SHOP, BUYER), *buyers})


def turn(b: Book, now: datetime = T0) -> Turn:
    return Turn(View(b), Out(), CFG, now)


def kinds(t: Turn) -> list[str]:
    return [type(e).__name__ for e in t.out.events]


def known_order(b: Book, status: str = "TRADE_BUYER_SIGNED", **kw: Any) -> None:
    t = turn(b)
    refunds.order_changed(t, order("o-1", status, shop_id=SHOP, buyer_id=BUYER, **kw), "e0")
    b.apply(t.v)


def test_a_request_for_a_known_order_is_decided_at_once_with_its_effects() -> None:
    b = book()
    known_order(b, at=T0 - timedelta(days=2))
    t = turn(b)
    refunds.refund_requested(t, refund("r-1", "o-1", shop_id=SHOP, buyer_id=BUYER), "e1")

    assert kinds(t) == ["CaseOpened", "RefundDecided"]
    decided = t.out.events[1]
    assert isinstance(decided, RefundDecided)
    assert (decided.decision, decided.rule_id) == ("approve", "seven-day.return")
    armed = {(x.kind, x.replace) for x in t.out.timers if x.due_at is not None}
    assert armed == {(REFUND_SLA, True), (REFUND_ALERT, True)}
    assert t.out.counters == ["refund_approve"]
    case_id = refund_case_id("r-1")
    assert case_id not in b.cases  # nothing changes in the book before `apply`
    b.apply(t.v)
    assert b.cases[case_id].decision == "approve"
    assert [h.event for h in b.history[case_id]] == ["opened", "decided_approve"]
    assert [s.kind for s in b.signals[(SHOP, BUYER)].values()] == ["refund"]


def test_a_request_waits_for_its_order_which_then_decides_it() -> None:
    b = book()
    t = turn(b)
    refunds.refund_requested(t, refund("r-1", "o-1", shop_id=SHOP, buyer_id=BUYER), "e1")
    assert kinds(t) == ["CaseOpened"]
    assert [(x.kind, x.due_at) for x in t.out.timers if x.kind == REFUND_DECIDE] == [
        (REFUND_DECIDE, T0 + CFG.order_facts_grace)
    ]
    b.apply(t.v)

    t = turn(b)
    refunds.order_changed(t, order("o-1", "TRADE_BUYER_SIGNED", shop_id=SHOP, buyer_id=BUYER), "e2")
    assert kinds(t) == ["RefundDecided"]
    assert any(x.kind == REFUND_DECIDE and x.due_at is None for x in t.out.timers)  # cancelled


def test_buyer_risk_is_counted_from_the_loaded_signals() -> None:
    b = book()
    known_order(b, at=T0 - timedelta(days=2))
    b.signals[(SHOP, BUYER)] = {
        ("refund", f"old-{i}"): Signal(SHOP, BUYER, "refund", f"old-{i}", T0 - timedelta(days=i + 1), f"o-old-{i}")
        for i in range(4)
    }  # fmt: skip
    t = turn(b)
    refunds.refund_requested(t, refund("r-1", "o-1", shop_id=SHOP, buyer_id=BUYER), "e1")

    case = t.v.case(refund_case_id("r-1"))
    assert case is not None
    assert (case.risk_level, case.risk_score, case.decision) == ("high", 60, "escalate")
    assert kinds(t) == ["CaseOpened", "RefundDecided", "HandoffRequested"]
    handoff = t.out.events[2]
    assert isinstance(handoff, HandoffRequested)
    assert "high(60)" in handoff.summary


def test_a_change_consumed_before_its_request_is_applied_when_the_case_opens() -> None:
    b = book()
    t = turn(b)
    refunds.refund_changed(
        t, refund_change("r-1", "o-1", "SUCCESS", shop_id=SHOP, changed_at=T0), "e1"
    )
    assert not t.out.events
    b.apply(t.v)
    assert "r-1" in b.saved_early

    t = turn(b)
    refunds.refund_requested(t, refund("r-1", "o-1", shop_id=SHOP, buyer_id=BUYER), "e2")
    assert kinds(t)[:2] == ["CaseOpened", "CaseResolved"]
    resolved = t.out.events[1]
    assert isinstance(resolved, CaseResolved)
    assert resolved.outcome == "refunded"
    b.apply(t.v)
    assert "r-1" in b.taken_early
    assert "r-1" not in b.saved_early


def test_a_dispute_goes_to_a_senior_agent_with_an_alert() -> None:
    b = book()
    known_order(b, at=T0 - timedelta(days=2))
    t = turn(b)
    refunds.refund_requested(t, refund("r-1", "o-1", shop_id=SHOP, buyer_id=BUYER), "e1")
    b.apply(t.v)
    t = turn(b, T0 + timedelta(hours=1))
    change = refund_change(
        "r-1", "o-1", "WAIT_SELLER_AGREE", shop_id=SHOP, changed_at=T0 + timedelta(hours=1),
        cs_status=2, timeout=T0 + timedelta(days=3),
    )  # fmt: skip
    refunds.refund_changed(t, change, "e2")

    assert kinds(t) == ["HandoffRequested", "OrderAlert"]
    handoff, alert = t.out.events
    assert isinstance(handoff, HandoffRequested)
    assert isinstance(alert, OrderAlert)
    assert (handoff.skill, handoff.priority) == ("senior", "urgent")
    assert alert.kind == "refund_dispute"
    assert t.out.counters == ["handoff_senior", "dispute"]


def test_a_bad_review_opens_a_case_apologises_and_hands_off() -> None:
    b = book()
    t = turn(b)  # 10:00 shop time: within business hours
    reviews.review_posted(t, review("v-1", "o-1", "bad", shop_id=SHOP, buyer_id=BUYER), "e1")
    assert kinds(t) == ["CaseOpened", "ReplyRequested", "HandoffRequested"]
    b.apply(t.v)
    t = turn(b)
    reviews.review_posted(t, review("v-1", "o-1", "bad", shop_id=SHOP, buyer_id=BUYER), "e2")
    assert not t.out.events  # the same review again: counted once


def test_a_question_is_answered_from_the_buyers_latest_order() -> None:
    b = book()
    known_order(b, status="WAIT_SELLER_SEND_GOODS")
    t = turn(b)
    questions.message_classified(t, classified("refund", shop_id=SHOP, buyer_id=BUYER), "e1")
    reply = t.out.events[0]
    assert isinstance(reply, ReplyRequested)
    assert reply.order_id == "o-1"


def test_a_buyer_the_loader_did_not_load_fails_the_decision_and_changes_nothing() -> None:
    b = Book()  # no buyer loaded: risk cannot be counted
    t = Turn(View(b), Out(), replace(CFG, order_facts_grace=timedelta(0)), T0)
    with pytest.raises(NotLoaded):
        refunds.refund_requested(
            t, refund("r-1", "o-1", shop_id=SHOP, buyer_id=BUYER), "e1"
        )  # no grace: decided at once
    assert not b.cases
    assert not b.new_history


DOMAIN = Path(__file__).resolve().parents[3] / "services" / "aftersale" / "domain"
FORBIDDEN = ("sqlalchemy", "asyncpg", "fastapi", "faststream", "aiokafka", "yaml", "pathlib",
             "shared.context", "shared.batch", "shared.db", "shared.safe_yaml", "shared.runtime",
             "services.aftersale.store", "services.aftersale.handlers")  # fmt: skip


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_the_domain_does_no_io(path: Path) -> None:
    imported: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    bad = [m for m in imported if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []
