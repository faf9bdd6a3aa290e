"""Answers to buyers' after-sale questions, from their actual order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.aftersale.domain import texts
from services.aftersale.domain.answers import OpenCase, answer
from services.aftersale.domain.facts import OrderFacts
from services.aftersale.rules_loader import default_rules
from tests.support.factories import SHANGHAI

TZ = SHANGHAI
RULES = default_rules()
NOW = datetime(2026, 11, 12, 4, tzinfo=UTC)
PAID = OrderFacts("o1", "b1", "WAIT_SELLER_SEND_GOODS", 9900)
SHIPPED = OrderFacts(
    "o1", "b1", "WAIT_BUYER_CONFIRM_GOODS", 9900, consign_time=NOW - timedelta(days=2)
)
SIGNED = replace(SHIPPED, status="TRADE_BUYER_SIGNED", signed_at=NOW - timedelta(days=1))
OLD = replace(SIGNED, status="TRADE_FINISHED", signed_at=NOW - timedelta(days=20))


def ask(
    intent: str, order: OrderFacts | None, case: OpenCase | None = None, category: str | None = None
):  # type: ignore[no-untyped-def]
    return answer(intent, order, case, category, NOW, RULES, TZ)


def test_no_order_asks_for_it() -> None:
    a = ask("refund", None)
    assert (a.text, a.kind, a.handoff_priority) == (texts.ASK_ORDER, "clarify", None)


def test_not_shipped_refund_is_automatic() -> None:
    a = ask("refund", PAID)
    assert a.text == texts.NOT_SHIPPED_AUTO
    assert a.handoff_priority is None


def test_shipped_not_signed() -> None:
    assert ask("return_exchange", SHIPPED).text == texts.SHIPPED_NOT_SIGNED


def test_signed_within_seven_days_gives_the_deadline_and_next_step() -> None:
    a = ask("return_exchange", SIGNED, category="apparel")
    assert "七天无理由退货期内" in a.text
    assert "申请售后" in a.text
    assert a.handoff_priority is None


def test_window_passed_hands_off() -> None:
    a = ask("refund", OLD)
    assert "已超过七天无理由" in a.text
    assert a.handoff_priority == "normal"


def test_ineligible_category() -> None:
    a = ask("return_exchange", SIGNED, category="custom_made")
    assert a.text == texts.CATEGORY_INELIGIBLE
    assert a.handoff_priority == "normal"


def test_open_case_status_is_told() -> None:
    case = OpenCase("r1", "WAIT_SELLER_AGREE", "escalate", NOW + timedelta(hours=30))
    a = ask("refund", SIGNED, case)
    assert "售后专员审核" in a.text
    approved = ask("refund", SIGNED, replace(case, decision="approve"))
    assert approved.text == texts.CASE_STATUS["approved"]
    refused = ask("refund", SIGNED, replace(case, refund_status="SELLER_REFUSE_BUYER"))
    assert refused.handoff_priority == "normal"


@pytest.mark.parametrize(
    ("intent", "kind", "priority"),
    [
        ("quality_issue", "clarify", "normal"),
        ("missing_or_wrong_item", "handoff_notice", "high"),
        ("complaint", "handoff_notice", "high"),
    ],
)
def test_problems_are_handed_off(intent: str, kind: str, priority: str) -> None:
    a = ask(intent, SIGNED)
    assert (a.kind, a.handoff_priority) == (kind, priority)
    assert a.text


def test_quality_asks_for_photos() -> None:
    assert "照片" in (ask("quality_issue", SIGNED).text or "")
