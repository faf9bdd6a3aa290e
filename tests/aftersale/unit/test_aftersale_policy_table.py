"""The decision table: each row is a refund request, what the shop knows, and the rule that decides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.aftersale.domain.facts import OrderFacts, RefundFacts
from services.aftersale.domain.policy import (
    SAFETY_HIGH_RISK,
    SAFETY_INCONSISTENT,
    UNRECOGNISED_REASON,
    decide,
)
from services.aftersale.domain.risk import BuyerHistory, assess
from services.aftersale.domain.rules import parse_rules
from services.aftersale.rules_loader import default_rules
from tests.support.factories import SHANGHAI

TZ = SHANGHAI
RULES = default_rules()
# Signed 2026-11-10 15:00 Shanghai → window 2026-11-11 00:00 + 168 h = 2026-11-18 00:00 Shanghai.
SIGNED_AT = datetime(2026, 11, 10, 7, 0, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 18, 0, 0, tzinfo=TZ)

PAID = OrderFacts("o1", "b1", "WAIT_SELLER_SEND_GOODS", 20000)
UNPAID = OrderFacts("o1", "b1", "WAIT_BUYER_PAY", 20000)
SHIPPED = OrderFacts(
    "o1", "b1", "WAIT_BUYER_CONFIRM_GOODS", 20000, consign_time=SIGNED_AT - timedelta(days=2)
)
PART_SHIPPED = OrderFacts(
    "o1", "b1", "SELLER_CONSIGNED_PART", 20000, consign_time=SIGNED_AT - timedelta(days=2)
)
SIGNED = replace(SHIPPED, status="TRADE_BUYER_SIGNED", signed_at=SIGNED_AT)
FINISHED = replace(SIGNED, status="TRADE_FINISHED")

LOW: dict[str, Any] = {}
MEDIUM = {"refunds_30d": 3}  # 40 points
HIGH_SERIAL = {"refunds_30d": 5}  # 60 points
HIGH_THREAT = {"threat_words": ("12315",)}
HIGH_NOT_RECEIVED = {"not_received_on_signed": 2}
SHARE = {"orders": 4, "refunded_orders": 3, "refunds_30d": 2}  # 20 + 20 = 40: medium


def refund(**kw: Any) -> RefundFacts:
    base: dict[str, Any] = {
        "refund_id": "r1",
        "order_id": "o1",
        "refund_phase": "aftersale",
        "has_good_return": True,
        "good_status": "BUYER_RECEIVED",
        "reason": "七天无理由退货",
        "refund_fee": 5000,
        "order_total_fee": 20000,
        "requested_at": SIGNED_AT + timedelta(days=3),
        "item_category": "apparel",
    }
    return RefundFacts(**{**base, **kw})


def not_received(**kw: Any) -> RefundFacts:
    return refund(
        has_good_return=False, good_status="BUYER_NOT_RECEIVED", refund_phase="onsale", **kw
    )


IN_WINDOW = WINDOW_END - timedelta(minutes=1)
AFTER_WINDOW = WINDOW_END + timedelta(minutes=1)

TABLE: list[tuple[str, RefundFacts, OrderFacts | None, dict[str, Any], str, str]] = [
    # -- refund only before shipping ------------------------------------------------------
    ("not shipped, changed mind", not_received(reason="不想要了"), PAID, LOW, "approve", "refund-only.not-shipped"),
    ("unpaid order refund-only", not_received(reason="拍错/多拍"), UNPAID, LOW, "approve", "refund-only.not-shipped"),
    ("not shipped, quality reason", not_received(reason="质量问题"), PAID, LOW, "approve", "refund-only.not-shipped"),
    ("not shipped, full amount", not_received(reason="不想要了", refund_fee=20000), PAID, LOW, "approve", "refund-only.not-shipped"),
    ("not shipped, medium risk", not_received(reason="不想要了"), PAID, MEDIUM, "approve", "refund-only.not-shipped"),
    ("not shipped, fresh food", not_received(reason="不想要了", item_category="fresh_food"), PAID, LOW, "approve", "refund-only.not-shipped"),
    ("not shipped, serial refunder", not_received(reason="不想要了"), PAID, HIGH_SERIAL, "escalate", "risk.high-buyer-risk"),
    ("not shipped, threats", not_received(reason="不想要了"), PAID, HIGH_THREAT, "escalate", "risk.high-buyer-risk"),
    ("not shipped, asks more than order", not_received(reason="不想要了", refund_fee=20001), PAID, LOW, "escalate", "inconsistent.refund-exceeds-order"),
    # -- shipped, refund only -------------------------------------------------------------
    ("shipped, refund-only changed mind", not_received(reason="不想要了"), SHIPPED, LOW, "escalate", "default.escalate"),
    ("partly shipped, refund-only", not_received(reason="不想要了"), PART_SHIPPED, LOW, "escalate", "default.escalate"),
    ("shipped, not received, quality", not_received(reason="质量问题"), SHIPPED, LOW, "approve", "quality.auto-approve"),
    # -- inconsistent requests ------------------------------------------------------------
    ("unknown order", refund(), None, LOW, "escalate", "inconsistent.unknown-order"),
    ("unknown order, refund-only", not_received(reason="不想要了"), None, LOW, "escalate", "inconsistent.unknown-order"),
    ("unknown order, tiny quality", refund(reason="质量问题", refund_fee=100), None, LOW, "escalate", "inconsistent.unknown-order"),
    ("refund above event total", refund(refund_fee=21000), SIGNED, LOW, "escalate", "inconsistent.refund-exceeds-order"),
    ("refund above projected total", refund(refund_fee=19000, order_total_fee=25000, reason="质量问题"), replace(SIGNED, total_fee=18000), LOW, "escalate", "inconsistent.refund-exceeds-order"),
    ("refund equal to total is fine", refund(refund_fee=20000, requested_at=IN_WINDOW), SIGNED, LOW, "approve", "seven-day.return"),
    ("not received but signed", not_received(reason="未收到货", requested_at=IN_WINDOW), SIGNED, LOW, "escalate", "inconsistent.not-received-but-signed"),
    ("not received but finished", not_received(reason="未收到货"), FINISHED, LOW, "escalate", "inconsistent.not-received-but-signed"),
    ("not received but signed, quality", not_received(reason="质量问题", refund_fee=100), SIGNED, LOW, "escalate", "inconsistent.not-received-but-signed"),
    # -- 七天无理由 ------------------------------------------------------------------------
    ("7-day, day 3", refund(), SIGNED, LOW, "approve", "seven-day.return"),
    ("7-day, last minute of window", refund(requested_at=IN_WINDOW), SIGNED, LOW, "approve", "seven-day.return"),
    ("7-day, exactly at window end", refund(requested_at=WINDOW_END), SIGNED, LOW, "approve", "seven-day.return"),
    ("7-day, one minute late", refund(requested_at=AFTER_WINDOW), SIGNED, LOW, "escalate", "seven-day.expired"),
    ("7-day, a month late", refund(requested_at=SIGNED_AT + timedelta(days=30)), FINISHED, LOW, "escalate", "seven-day.expired"),
    ("7-day, same day as signing", refund(requested_at=SIGNED_AT + timedelta(hours=2)), SIGNED, LOW, "approve", "seven-day.return"),
    ("size does not fit", refund(reason="尺码不合适"), SIGNED, LOW, "approve", "seven-day.return"),
    ("does not want it", refund(reason="不想要了"), FINISHED, LOW, "approve", "seven-day.return"),
    ("7-day, before signing", refund(), SHIPPED, LOW, "approve", "seven-day.return"),
    ("7-day, medium risk", refund(), SIGNED, MEDIUM, "approve", "seven-day.return"),
    ("7-day, high share medium risk", refund(), SIGNED, SHARE, "approve", "seven-day.return"),
    ("7-day, custom made", refund(item_category="custom_made"), SIGNED, LOW, "escalate", "seven-day.ineligible-category"),
    ("7-day, fresh food", refund(item_category="fresh_food"), SIGNED, LOW, "escalate", "seven-day.ineligible-category"),
    ("7-day, digital download", refund(item_category="digital_download"), SIGNED, LOW, "escalate", "seven-day.ineligible-category"),
    ("7-day, unknown category", refund(item_category=None), SIGNED, LOW, "approve", "seven-day.return"),
    ("7-day, serial refunder", refund(), SIGNED, HIGH_SERIAL, "escalate", "risk.high-buyer-risk"),
    ("7-day, threat words", refund(), SIGNED, HIGH_THREAT, "escalate", "risk.high-buyer-risk"),
    ("7-day, past not-received claims", refund(), SIGNED, HIGH_NOT_RECEIVED, "escalate", "risk.high-buyer-risk"),
    # -- quality, missing and wrong items ---------------------------------------------------
    ("quality within limit", refund(reason="质量问题", refund_fee=8000), SIGNED, LOW, "approve", "quality.auto-approve"),
    ("quality exactly at limit", refund(reason="质量问题", refund_fee=10000), SIGNED, LOW, "approve", "quality.auto-approve"),
    ("quality above limit", refund(reason="质量问题", refund_fee=10001), SIGNED, LOW, "escalate", "quality.needs-evidence"),
    ("quality, medium risk", refund(reason="质量问题", refund_fee=500), SIGNED, MEDIUM, "escalate", "quality.needs-evidence"),
    ("quality, high risk", refund(reason="质量问题", refund_fee=500), SIGNED, HIGH_THREAT, "escalate", "risk.high-buyer-risk"),
    ("quality after 7 days", refund(reason="质量问题", refund_fee=500, requested_at=AFTER_WINDOW + timedelta(days=20)), FINISHED, LOW, "approve", "quality.auto-approve"),
    ("not as described", refund(reason="商品与描述不符", refund_fee=3000), SIGNED, LOW, "approve", "quality.auto-approve"),
    ("missing item refund-only", refund(reason="少件/漏发", has_good_return=False, refund_fee=2000), SIGNED, LOW, "approve", "quality.auto-approve"),
    ("missing item, large", refund(reason="少件/漏发", has_good_return=False, refund_fee=15000), SIGNED, LOW, "escalate", "quality.needs-evidence"),
    ("wrong item sent", refund(reason="发错货", refund_fee=9999), SIGNED, LOW, "approve", "quality.auto-approve"),
    ("wrong item, serial refunder", refund(reason="发错货", refund_fee=500), SIGNED, HIGH_SERIAL, "escalate", "risk.high-buyer-risk"),
    ("quality on fresh food", refund(reason="质量问题", refund_fee=500, item_category="fresh_food"), SIGNED, LOW, "approve", "quality.auto-approve"),
    # -- everything else --------------------------------------------------------------------
    ("counterfeit claim", refund(reason="假冒品牌", refund_fee=500), SIGNED, LOW, "escalate", "serious-claim.needs-evidence"),
    ("empty parcel", refund(reason="空包裹", has_good_return=False, refund_fee=500), SIGNED, LOW, "escalate", "serious-claim.needs-evidence"),
    ("never delivered, shipped", not_received(reason="快递/物流一直未送到"), SHIPPED, LOW, "escalate", "logistics.check-tracking"),
    ("late shipping, not shipped", not_received(reason="未按约定时间发货"), PAID, LOW, "approve", "refund-only.not-shipped"),
    ("other reason", refund(reason="其他"), SIGNED, LOW, "escalate", "default.escalate"),
    ("unrecognised reason", refund(reason="买贵了要退差价"), SIGNED, LOW, "escalate", UNRECOGNISED_REASON),
    ("unrecognised, not shipped", not_received(reason="买贵了要退差价"), PAID, LOW, "approve", "refund-only.not-shipped"),
    ("7-day reason, refund only after signing", refund(has_good_return=False), SIGNED, LOW, "escalate", "default.escalate"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "order", "history", "decision", "rule_id"),
    [pytest.param(*row[1:], id=row[0]) for row in TABLE],
)
def test_decision_table(
    request_: RefundFacts,
    order: OrderFacts | None,
    history: dict[str, Any],
    decision: str,
    rule_id: str,
) -> None:
    risk = assess(BuyerHistory(**history), RULES.risk)
    d = decide(request_, order, risk, RULES, TZ)
    assert (d.decision, d.rule_id) == (decision, rule_id), d.reason
    assert d.reason
    assert "{" not in d.reason
    assert rule_id in {r.id for r in RULES.rules} | {UNRECOGNISED_REASON}


def test_the_table_is_big_enough_and_covers_every_default_rule() -> None:
    assert len(TABLE) >= 40
    assert {row[5] for row in TABLE} == {r.id for r in RULES.rules} | {UNRECOGNISED_REASON}


def test_an_unrecognised_reason_says_so_and_is_flagged() -> None:
    d = decide(refund(reason="买贵了要退差价"), SIGNED, assess(BuyerHistory()), RULES, TZ)
    assert "unrecognised refund reason" in d.reason
    assert not d.reason_recognised
    assert d.reason_group is None
    known = decide(refund(reason="7天无理由退换货"), SIGNED, assess(BuyerHistory()), RULES, TZ)
    assert (known.reason_recognised, known.reason_group) == (True, "no_reason")


def test_a_shop_without_reason_groups_keeps_its_catch_all() -> None:
    d = decide(
        refund(reason="随便什么"), SIGNED, assess(BuyerHistory()), parse_rules(PERMISSIVE), TZ
    )
    assert (d.decision, d.rule_id) == ("approve", "approve.everything")


def test_quality_above_limit_asks_for_evidence() -> None:
    d = decide(refund(reason="质量问题", refund_fee=50000, order_total_fee=60000),
               replace(SIGNED, total_fee=60000), assess(BuyerHistory()), RULES, TZ)  # fmt: skip
    assert d.ask_evidence
    assert "500.00" in d.reason
    assert "100.00" in d.reason


HIGH_RISK_BUYERS = [HIGH_SERIAL, HIGH_THREAT, HIGH_NOT_RECEIVED]
INCONSISTENT = [
    (refund(), None),
    (refund(refund_fee=30000), SIGNED),
    (not_received(reason="未收到货"), SIGNED),
]

PERMISSIVE = {
    "version": 1,
    "rules": [
        {"id": "approve.everything", "when": {}, "decision": "approve", "reason": "我们全都同意"},
    ],
}


@pytest.mark.parametrize("history", HIGH_RISK_BUYERS)
@pytest.mark.parametrize("ruleset", ["default", "permissive"])
def test_high_risk_is_never_approved_whatever_the_rules(
    history: dict[str, Any], ruleset: str
) -> None:
    rules = RULES if ruleset == "default" else parse_rules(PERMISSIVE)
    for order in (PAID, SHIPPED, SIGNED):
        d = decide(refund(refund_fee=100), order, assess(BuyerHistory(**history)), rules, TZ)
        assert d.decision == "escalate"
        assert d.rule_id in ("risk.high-buyer-risk", SAFETY_HIGH_RISK)


@pytest.mark.parametrize(("req", "order"), INCONSISTENT)
def test_inconsistent_requests_are_never_approved_whatever_the_rules(
    req: RefundFacts, order: OrderFacts | None
) -> None:
    d = decide(req, order, assess(BuyerHistory()), parse_rules(PERMISSIVE), TZ)
    assert (d.decision, d.rule_id) == ("escalate", SAFETY_INCONSISTENT)
