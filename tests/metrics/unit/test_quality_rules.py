"""The quality rule engine: spans, exceptions, overrides, scoring, and the labelled sets."""

from __future__ import annotations

import gc
import time

import pytest

from services.metrics.domain.quality.rules import CATEGORIES
from services.metrics.domain.quality.score import score
from services.metrics.quality.rulebook import RuleBook, RulesInvalid, apply_override, load_defaults
from tools.metrics.quality.evaluate import evaluate, read_set

RULES = load_defaults()
PRECISION, RECALL = 0.95, 0.90

# heldout7.tsv is the only held-out set no rule was ever tuned after: written in round 7 by a
# different author before any rule, normaliser or scorer changed (commit "heldout7.tsv: seventh
# held-out set"), evaluated once with the frozen rules 2026.12-4 and scorers; heldout6 was used
# to tune round 7 and joins the earlier sets. On heldout7 the rules miss phrasings no rule has
# seen and fire on a few replies they should not: recorded here, not hidden. Each marker is
# strict: the test fails once a target is met, and the marker must go; the measured value is
# asserted as a floor (test_the_shortfalls_are_recorded...).
UNTOUCHED = "heldout7"
EARLIER = ("heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6")
PRECISION_SHORTFALL = {
    "ad_law": 0.833,  # 最+adjective fires on 最低价格/最安全/卖得最好的; 不能治疗 (negation bug)
    "personal_data": 0.935,  # the shop's own return address; account numbers of the agent
    "over_promise": 0.932,  # 不能保证一定不褪色 (negation too far back); 百分百防 for ad_law
}
RECALL_SHORTFALL = {
    "ad_law": 0.778,
    "off_platform": 0.884,
}


def _marked(measured: dict[str, float], what: str) -> list[object]:
    return [
        pytest.param(
            c,
            marks=pytest.mark.xfail(
                strict=True, reason=f"known {what} shortfall: {measured[c]:.3f} on {UNTOUCHED}"
            ),
        )
        if c in measured
        else c
        for c in CATEGORIES
    ]


def test_the_labelled_sets_are_large_enough_and_cover_every_category() -> None:
    sets = {name: read_set(name) for name in ("train", *EARLIER, UNTOUCHED)}
    assert sum(len(s) for s in sets.values()) >= 400
    for name, examples in sets.items():
        labels = {c for ex in examples for c in ex.labels}
        assert labels == set(CATEGORIES), name
        assert sum(not ex.labels for ex in examples) >= 25, f"{name}: too few clean replies"


def test_training_set_is_fully_recognised() -> None:
    figures, wrong = evaluate(RULES, read_set("train"))
    assert wrong == []
    assert all(f.precision == f.recall == 1.0 for f in figures.values())


@pytest.mark.parametrize("category", CATEGORIES)
def test_precision_on_the_earlier_heldout_sets(category: str) -> None:
    for name in EARLIER:
        figures, _ = evaluate(RULES, read_set(name))
        assert figures[category].precision >= PRECISION, (name, figures[category])


@pytest.mark.parametrize("category", CATEGORIES)
def test_recall_on_the_earlier_heldout_sets(category: str) -> None:
    """The sets used to tune (heldout4 and heldout5 were the untouched ones of rounds 4 and 5)
    keep the targets."""
    for name in EARLIER:
        figures, _ = evaluate(RULES, read_set(name))
        assert figures[category].recall >= RECALL, (name, figures[category])


def test_the_shortfalls_are_recorded_as_measured() -> None:
    """The numbers in the markers are the measured ones (so a marker cannot hide a drop)."""
    figures, _ = evaluate(RULES, read_set(UNTOUCHED))
    for category, value in PRECISION_SHORTFALL.items():
        assert figures[category].precision >= value - 0.0005, (category, figures[category])
    for category, value in RECALL_SHORTFALL.items():
        assert figures[category].recall >= value - 0.0005, (category, figures[category])


@pytest.mark.parametrize("category", _marked(PRECISION_SHORTFALL, "precision"))
def test_heldout_precision(category: str) -> None:
    figures, _ = evaluate(RULES, read_set(UNTOUCHED))
    assert figures[category].precision >= PRECISION, figures[category]


@pytest.mark.parametrize("category", _marked(RECALL_SHORTFALL, "recall"))
def test_heldout_recall(category: str) -> None:
    figures, _ = evaluate(RULES, read_set(UNTOUCHED))
    assert figures[category].recall >= RECALL, figures[category]


@pytest.mark.parametrize(
    "text",
    [
        "最近上新了几款", "第一次购买可以领券", "最晚明天发货", "您的手机138****1234已核对",
        "订单号3876543210987654321已备注", "请勿添加陌生人微信，谨防诈骗",
        "链接：https://item.taobao.com/item.htm?id=1", "如果满意请给个好评哦",
        "7天无理由退换是支持的", "不好意思让您久等了",
    ],
)  # fmt: skip
def test_harmless_replies_pass(text: str) -> None:
    check = RULES.check(text)
    assert check.verdict == "ok", check.violations


def test_a_violation_names_rule_span_and_fix() -> None:
    text = "亲，加我微信abc，全网最低价"
    check = RULES.check(text)
    assert check.verdict == "block"
    by_category = {v.category: v for v in check.violations}
    wechat, superlative = by_category["off_platform"], by_category["ad_law"]
    assert text[wechat.start : wechat.end] == "微信"
    assert wechat.rule_id == "off_platform.wechat"
    assert wechat.severity == "block"
    assert text[superlative.start : superlative.end] == "全网最"
    assert superlative.severity == "warn"
    assert superlative.suggestion


def test_full_width_text_keeps_its_spans() -> None:
    text = "加我ＶＸ：ｓｈｏｐ"
    found = RULES.check(text).violations
    assert {v.category for v in found} == {"off_platform"}
    [rule] = [v for v in found if v.rule_id == "off_platform.wechat"]
    assert "ｖｘ" in text[rule.start : rule.end].lower()  # the original full-width characters


def test_a_shop_override_allows_brands_disables_and_reweighs() -> None:
    shop = apply_override(
        RULES,
        "shop-x",
        """
version: "7"
allow: [最生活]
disable: [ad_law.grade]
severity: {rude.impatient: block}
scoring: {weights: {rude: 30}}
rules:
  - id: off_platform.douyin
    category: off_platform
    severity: block
    match: ["抖音"]
    suggestion: 不要引导到抖音
""",
        "test",
    )
    assert shop.version == f"{RULES.version}+shop-x.7"
    assert RULES.check("最生活毛巾").verdict == "ok"  # not a superlative anyway
    assert shop.check("全网最生活的毛巾").verdict == "ok"  # the brand is blanked
    assert RULES.check("顶级面料").verdict == "warn"
    assert shop.check("顶级面料").verdict == "ok"
    assert shop.check("烦不烦").verdict == "block"
    assert shop.check("来抖音找我").categories == {"off_platform"}
    assert shop.weights["rude"] == 30
    assert shop.weights["ad_law"] == RULES.weights["ad_law"]


def test_a_bad_override_is_refused_with_its_errors() -> None:
    with pytest.raises(RulesInvalid) as err:
        apply_override(
            RULES,
            "shop-x",
            "version: '1'\ndisable: [no.such_rule]\nrules:\n"
            "  - {id: rude.x, category: rude, severity: warn, match: ['('], suggestion: s}\n",
            "test",
        )
    assert any("no.such_rule" in e for e in err.value.errors)
    assert any("rude.x.match" in e for e in err.value.errors)


def test_rulebook_reads_overrides_per_shop(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "shop-a.yaml").write_text("version: '2'\nallow: [顶级]\n", encoding="utf-8")
    book = RuleBook(tmp_path)
    assert book.shops == ["shop-a"]
    assert book.for_shop("shop-a").check("顶级面料").verdict == "ok"
    assert book.for_shop("shop-b") is book.defaults


def test_score_deducts_per_flag_and_fails_on_fail_categories() -> None:
    weights, fail = RULES.weights, RULES.fail
    assert score([], weights, fail).score == 100
    s = score(["ad_law", "ad_law", "rude"], weights, fail)
    assert (s.score, s.failed) == (100 - 2 * weights["ad_law"] - weights["rude"], False)
    s = score(["review_inducement"], weights, fail)
    assert s.failed
    assert s.score == 100 - weights["review_inducement"]
    assert score(["personal_data"] * 5, weights, fail).score == 0


@pytest.mark.parametrize(
    "text",
    ["最" * 4000, "1" * 4000, "1 " * 2000, "路1号" * 1333, "好评" * 2000, "http://" * 570,
     "微信" * 2000, "保证一定肯定" * 666],
)  # fmt: skip
def test_adversarial_long_replies_stay_linear(text: str) -> None:
    """Every pattern is bounded: the longest reply a contract allows checks in milliseconds
    (measured 3–80 ms of CPU), never the seconds of a backtracking pattern. The collector is
    held off meanwhile: a full collection of the test session's heap landing inside the check
    (0.4 s of CPU in one CI run) is not the patterns' cost."""
    gc.disable()
    try:
        started = time.thread_time()
        check = RULES.check(text)
        spent = time.thread_time() - started
    finally:
        gc.enable()
    assert spent < 0.25
    assert len(check.violations) <= 50
