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

# heldout8.tsv is the only held-out set no rule was ever tuned after: written by an independent
# author who never saw the rules, scorers or other sets (commit "heldout8.tsv: eighth held-out
# set…", cherry-picked from h13w) and evaluated ONCE with the rules 2026.12-5 and scorers frozen
# before it was read (commit "round 8 rules frozen before heldout8"). Round 8 tuned on heldout7
# (round 7's untouched set), which joins the earlier sets and keeps both targets. The shortfalls
# on heldout8 are recorded here, not hidden, and no rule changed after seeing them. Each marker
# is strict: the test fails once a target is met, and the marker must go; the measured value is
# asserted as a floor (test_the_shortfalls_are_recorded...). Causes, read after the evaluation
# (498 replies, 45-51 positives per category, 223 clean):
# - ad_law recall (6 missed): 百分百纯正 / 100%纯天然 as a purity claim; 全淘宝最低 (only 全网最 is a
#   word class); efficacy verbs and objects no class has (让皱纹彻底消失, 去湿疹, 矫正头型).
# - off_platform precision (3 false): a warning whose 冒充 lies beyond the 8-character window
#   (有人冒充淘宝客服让您加QQ…都是骗子); the shop's Taobao fan group (加入淘宝粉丝群: the set's
#   author counts it as on-platform); the off_platform scorer on a pinyin 好评返现 (haoping fanxian).
# - off_platform recall (6 missed): 我扣：<numerals> (only 扣扣/扣号 are words), 威❤ for 微信, 绿泡泡,
#   call我, 线下转账, 小红书私信我 (the last two the round-7 scorer caught; round 8's retrained
#   scorer, at a higher threshold, does not).
# - rude recall (9 missed): body shaming (胖成这样还买S码), blame (手残…还怪产品, 还好意思来退),
#   sarcasm (先学会看尺码表再来咨询), a threat (你敢给差评试试), 滚，, 吓唬谁呢, 理解能力这么差;
#   别墨迹了 is excused by the rude rules' 别 exception (别担心) and the retrained scorer misses it.
# - over_promise recall (6 missed): refunds beyond policy (定制的也能七天无理由退), 摔不碎…都没事,
#   insurance payouts (运费险肯定能全额理赔), 明儿个准到, pinyin (mingtian yiding dao), 瘦十斤没问题.
# Met: personal_data 1.000 / 0.911 (its 4 misses: 壹贰叁 financial numerals; the agent's own number
# after 打我/加我微信, which this set's author labels personal_data too while heldout7's did not;
# a buyer's address after 退回来的包裹), review_inducement 0.957 / 0.938 (false: 我们不搞好评返现,
# 好评返现是平台禁止的; missed: 5分, 打满分…送积分, pinyin), ad_law precision 0.956 (最好用冷水手洗:
# 最好用 read as a superlative; 不承诺全网最低价: 不承诺 is no exception), over_promise and rude
# precision 1.000.
UNTOUCHED = "heldout8"
EARLIER = ("heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7")
PRECISION_SHORTFALL = {
    "off_platform": 0.938,  # 冒充… beyond the window; 淘宝粉丝群; the scorer on pinyin 好评返现
}
RECALL_SHORTFALL = {
    "ad_law": 0.878,  # 百分百纯正, 全淘宝最低, 让皱纹消失, 去湿疹, 矫正头型
    "off_platform": 0.882,  # 我扣：…, 威❤, 绿泡泡, call我, 线下转账, 小红书私信我
    "rude": 0.824,  # body shaming, sarcasm, threats, 还好意思, 手残, 滚，, 别墨迹了
    "over_promise": 0.872,  # beyond-policy refunds, 摔不碎, insurance payouts, 明儿个准到, pinyin
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


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # round 8's generalisations, on phrasings written for this test (in no labelled set)
        ("这款是国货天花板", "ad_law"), ("颜值界的天花板", "ad_law"), ("敏感肌首选品牌", "ad_law"),
        ("宫廷御用配方", "ad_law"), ("这个能帮孩子长高", "ad_law"), ("这款茶能养胃", "ad_law"),
        ("泡脚能排出体内毒素", "ad_law"), ("皮肤科医生推荐的", "ad_law"),
        ("降噪技术全球领先", "ad_law"), ("蕞好的面料", "ad_law"), ("百分之百杀菌", "ad_law"),
        ("钱打到这张卡上就行", "off_platform"), ("支付宝加我手机号付款", "off_platform"),
        ("我们外面聊吧", "off_platform"), ("看我头像有联系方式", "off_platform"),
        ("球球：12345678", "off_platform"), ("直接拨给我", "off_platform"),
        ("包您穿了不磨脚", "over_promise"), ("今天之内必给您退到账", "over_promise"),
        ("认得字吗", "rude"), ("你就知道砍价", "rude"),
    ],
)  # fmt: skip
def test_round_8_word_classes_reach_unseen_phrasings(text: str, category: str) -> None:
    assert RULES.check(text).categories == {category}, RULES.check(text).violations


@pytest.mark.parametrize(
    "text",
    [
        "我们无法保证百分百不褪色，建议分开洗", "不敢保证一定明天到，以物流为准",
        "不能保证百分百不起球", "这个不能帮您瘦哦",  # a negation running into the match
        "这款枕头有助眠的香味，但不能治疗失眠",  # a disclaimer later in the sentence
        "这款卖得最好的尺码是M", "走平台交易最安全哦", "最低价格是双十一期间的79元",
        "宝宝长高了可以换大一码", "益智玩具很受欢迎", "天花板灯安装很简单", "首选顺丰发货",
        "这边给您打包您的订单", "退换货地址：杭州市西湖区文二路88号3楼 售后部",
    ],
)  # fmt: skip
def test_round_8_exceptions_keep_unseen_harmless_replies_quiet(text: str) -> None:
    check = RULES.check(text)
    assert check.verdict == "ok", check.violations


def test_a_buyers_number_still_fires_next_to_an_agent_contact_cue() -> None:
    assert "personal_data" in RULES.check("您的包裹寄到杭州市西湖区文二路88号3楼对吗").categories
    assert "personal_data" in RULES.check("您的电话13812345678对吗").categories
    # the agent's own full number is personal data too (the label rule, round 9)
    agent = RULES.check("我的电话是13812345678，有事打给我").categories
    assert agent == {"off_platform", "personal_data"}


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
disable: [ad_law.grade, ad_law.model]
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
