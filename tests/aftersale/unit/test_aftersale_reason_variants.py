"""Refund reasons as the platform writes them: every variant decides like its canonical text.

Issue 16: 七天无理由退换货 on an order signed two days earlier was escalated by `default.escalate`
because groups matched exact strings. The table pairs each platform/app-version variant with the
canonical text the packaged YAML lists, and checks the decision in several order situations.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.aftersale.domain.facts import OrderFacts, RefundFacts
from services.aftersale.domain.policy import UNRECOGNISED_REASON, decide
from services.aftersale.domain.reasons import ReasonIndex, normalize_reason
from services.aftersale.domain.risk import BuyerHistory, assess
from services.aftersale.domain.rules import parse_rules
from services.aftersale.rules_loader import default_rules
from tests.support.factories import SHANGHAI

TZ = SHANGHAI
RULES = default_rules()
SIGNED_AT = datetime(2026, 11, 10, 7, 0, tzinfo=UTC)
SHIPPED = OrderFacts(
    "o1", "b1", "WAIT_BUYER_CONFIRM_GOODS", 20000, consign_time=SIGNED_AT - timedelta(days=2)
)
SIGNED = replace(SHIPPED, status="TRADE_BUYER_SIGNED", signed_at=SIGNED_AT)
PAID = OrderFacts("o1", "b1", "WAIT_SELLER_SEND_GOODS", 20000)

# (variant as a buyer's app or an older platform version writes it, canonical text in the YAML)
VARIANTS: list[tuple[str, str]] = [
    ("七天无理由退换货", "七天无理由退货"),
    ("7天无理由退换货", "七天无理由退货"),
    ("7天无理由退货", "七天无理由退货"),
    ("７天无理由退货", "七天无理由退货"),
    ("【七天无理由】退货", "七天无理由退货"),
    ("7天无理由", "七天无理由退货"),
    ("七天无理由", "七天无理由退货"),
    ("支持7天无理由退货", "七天无理由退货"),
    ("7天无理由退货(退换货)", "七天无理由退货"),
    ("七天无理由退货。", "七天无理由退货"),
    ("我不想要了", "不想要了"),
    ("不想要了!", "不想要了"),
    ("不想要", "不想要了"),
    ("多拍/拍错/不想要", "拍错/多拍"),
    ("多拍、拍错、不想要", "拍错/多拍"),
    ("拍错了/多拍了", "拍错/多拍"),
    ("拍多了", "拍错/多拍"),
    ("尺寸不合适", "尺码不合适"),
    ("大小不合适", "尺码不合适"),
    ("尺码不合适（偏大）", "尺码不合适"),
    ("不喜欢、效果不好", "不喜欢/效果不好"),
    ("效果不好/不喜欢", "不喜欢/效果不好"),
    ("不喜欢", "不喜欢/效果不好"),
    ("质量有问题", "质量问题"),
    ("商品质量问题", "质量问题"),
    ("大小/尺寸与商品描述不符", "商品与描述不符"),
    ("大小尺寸与商品描述不符", "商品与描述不符"),
    ("尺码与商品描述不符", "商品与描述不符"),
    ("颜色/图案/款式与商品描述不符", "商品与描述不符"),
    ("颜色、图案、款式与商品描述不符", "商品与描述不符"),
    ("颜色与商品描述不符", "商品与描述不符"),
    ("材质与商品描述不符", "商品与描述不符"),
    ("材质与描述不符", "商品与描述不符"),
    ("与商品描述不符", "商品与描述不符"),
    ("商品与页面描述不符", "商品与描述不符"),
    ("包装/商品破损/污渍", "商品破损"),
    ("包装或商品破损、污渍", "商品破损"),
    ("商品破损/污渍", "商品破损"),
    ("卖家发错货", "发错货"),
    ("商家发错货", "发错货"),
    ("发错货了", "发错货"),
    ("收到商品少件（含少配件）", "少件/漏发"),
    ("收到商品少件(含少配件)", "少件/漏发"),
    ("少件（含少配件）", "少件/漏发"),
    ("少件漏发", "少件/漏发"),
    ("漏发", "少件/漏发"),
    ("错发/漏发", "发错货"),
    ("假冒品牌商品", "假冒品牌"),
    ("收到空包裹", "空包裹"),
    ("未按约定时间发货。", "未按约定时间发货"),
    ("快递一直未送到", "快递/物流一直未送到"),
    ("物流一直未送到", "快递/物流一直未送到"),
    ("快递/物流无跟踪记录", "快递/物流一直未送到"),
    ("物流无跟踪记录", "快递/物流一直未送到"),
    ("其它", "其他"),
]


def _refund(reason: str, **kw: Any) -> RefundFacts:
    base: dict[str, Any] = {
        "refund_id": "r1",
        "order_id": "o1",
        "refund_phase": "aftersale",
        "has_good_return": True,
        "good_status": "BUYER_RECEIVED",
        "reason": reason,
        "refund_fee": 5000,
        "order_total_fee": 20000,
        "requested_at": SIGNED_AT + timedelta(days=2),
        "item_category": "apparel",
    }
    return RefundFacts(**{**base, **kw})


SITUATIONS: dict[str, tuple[dict[str, Any], OrderFacts]] = {
    "return, signed two days ago": ({}, SIGNED),
    "return, a month after signing": ({"requested_at": SIGNED_AT + timedelta(days=30)}, SIGNED),
    "refund only, signed": ({"has_good_return": False}, SIGNED),
    "refund only, in transit": (
        {"has_good_return": False, "good_status": "BUYER_NOT_RECEIVED", "refund_phase": "onsale"},
        SHIPPED,
    ),
    "refund only, not shipped": (
        {"has_good_return": False, "good_status": "BUYER_NOT_RECEIVED", "refund_phase": "onsale"},
        PAID,
    ),
    "large return, signed": ({"refund_fee": 15000}, SIGNED),
}


def test_the_variant_table_is_big_enough() -> None:
    assert len(VARIANTS) >= 40
    assert len({v for v, _ in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize(("variant", "canonical"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_a_variant_belongs_to_its_canonical_texts_group(variant: str, canonical: str) -> None:
    assert RULES.reasons.match(variant).groups == RULES.reasons.match(canonical).groups != set()


@pytest.mark.parametrize("situation", list(SITUATIONS))
@pytest.mark.parametrize(("variant", "canonical"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_a_variant_decides_like_its_canonical_text(
    variant: str, canonical: str, situation: str
) -> None:
    overrides, order = SITUATIONS[situation]
    risk = assess(BuyerHistory())
    got = decide(_refund(variant, **overrides), order, risk, RULES, TZ)
    want = decide(_refund(canonical, **overrides), order, risk, RULES, TZ)
    assert (got.decision, got.rule_id) == (want.decision, want.rule_id), got.reason
    assert got.rule_id != UNRECOGNISED_REASON


def test_the_issue_case_is_approved_by_the_seven_day_rule() -> None:
    d = decide(_refund("七天无理由退换货"), SIGNED, assess(BuyerHistory()), RULES, TZ)
    assert (d.decision, d.rule_id) == ("approve", "seven-day.return")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("七天无理由退换货", "7天无理由退货"),
        ("（七天无理由）退货", "七天无理由退货"),
        ("我不想要了", "不想要"),
        ("收到商品少件（含少配件）", "收到商品少件(含少配件)"),
        ("ＡＢＣ／退货", "abc退货"),
    ],
)
def test_normalising_makes_variants_equal(a: str, b: str) -> None:
    assert normalize_reason(a) == normalize_reason(b)


@pytest.mark.parametrize("reason", ["买贵了要退差价", "退运费", "协议价格不对", "xyz"])
def test_texts_no_group_resembles_are_unrecognised_and_escalated(reason: str) -> None:
    match = RULES.reasons.match(reason)
    assert not match.recognised
    assert match.confidence < RULES.reasons.min_confidence
    d = decide(_refund(reason), SIGNED, assess(BuyerHistory()), RULES, TZ)
    assert (d.decision, d.rule_id) == ("escalate", UNRECOGNISED_REASON)
    assert "unrecognised refund reason" in d.reason


def test_a_reason_close_to_two_groups_is_not_guessed() -> None:
    index = ReasonIndex({"a": frozenset({"质量问题"}), "b": frozenset({"质量问答"})})
    assert not index.match("质量问").recognised


def test_a_shops_own_groups_and_reason_in_match_variants() -> None:
    rules = parse_rules(
        {
            "version": 1,
            "reason_groups": {"changed_mind": ["7天无理由退货"]},
            "rules": [
                {"id": "wrong-item", "when": {"reason_in": ["卖家发错货"]}, "decision": "approve",
                 "reason": "发错货"},
                {"id": "seven", "when": {"reason_group": "changed_mind"}, "decision": "approve",
                 "reason": "七天"},
                {"id": "rest", "when": {}, "decision": "escalate", "reason": "人工"},
            ],
        }
    )  # fmt: skip
    risk = assess(BuyerHistory())
    assert decide(_refund("七天无理由退换货"), SIGNED, risk, rules, TZ).rule_id == "seven"
    assert decide(_refund("卖家发错货。"), SIGNED, risk, rules, TZ).rule_id == "wrong-item"
    assert decide(_refund("假冒品牌"), SIGNED, risk, rules, TZ).rule_id == UNRECOGNISED_REASON
