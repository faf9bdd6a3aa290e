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

# heldout13.tsv is the only held-out set no rule was ever tuned after: written by an independent
# author who never saw the rules, scorers or other sets (commit "heldout13.tsv: thirteenth
# held-out set…", 998e6ff on h13w13, cherry-picked as 3b7f460) and evaluated ONCE with the rules
# 2026.12-10 and scorers frozen before it was read (commit "quality round 13 rules frozen before
# heldout13", feaffa5). Round 13 tuned on heldout12 (round 12's untouched set; its misses are
# described in docs/quality.md, "Round 12"), which joins the earlier sets and keeps both targets.
# heldout13 (490 replies, 46-50 positives per category, 216 clean) meets both targets in every
# category, so no shortfall marker is needed; the misses, read after the evaluation and NOT
# fixed (they are for the next round):
# - ad_law 1.000 / 0.960: 特供级别 (特供 needs 皇家/国家… before it), 店里最受欢迎的 (the 店里
#   exception excuses a rank inside the shop; 最受欢迎 is a superlative whoever ranks it).
# - off_platform 1.000 / 0.940: 加 ♥ 信 yy2024 (a heart between 加 and 信 is not read as 微);
#   卡片上的二维码加客服号 (a QR code on a card in the parcel); 我卡号6222…，转过来 (a private
#   transfer to the agent's card, found as personal_data only).
# - rude 1.000 / 0.935: 你家是没有尺子吗 (sarcasm with no insult word), 是你不会洗 (blame with
#   不会 + a verb; the class knows 你自己洗坏的), 别烦了行不行 (the new dismissal class needs
#   the clause to end after 别烦了).
# - over_promise 0.978 / 0.936: false: 绝对不能用热水烫，会变形的 (a care warning: the durability
#   class 绝对 + 不 reads any 绝对不 as a claim); missed: 三天内不到我们赔您一单 (赔N件 excludes one on purpose),
#   袜子穿不破的 (穿不破: 穿 is not among the unbreakable verbs), 零下40度穿都保证不冷 (the
#   extreme-cold class needs 也/都 right before 不).
# - review_inducement 0.959 / 0.979: false: 评价是您的权利，我们不会用返现换好评 (the match runs
#   from 评价 to 返, and a negation inside a match is no exception), 看到您评价里说有线头…给您补寄
#   一件新的 (评价 … 给您补 within 16 characters: a replacement for a defect read as a reward); missed: 追加评论并上传3张实拍图，即可获得小礼物 (追加评论/实拍图 are not among the
#   review words).
# The round-12 rules 2026.12-9 score the same on heldout13 with the scorers (every figure above);
# without the scorers, round 13's word classes raise rude recall 0.609 → 0.674 and over_promise
# 0.766 → 0.787 (the rules generalise; the scorers had caught those replies too).
UNTOUCHED = "heldout13"
EARLIER = (
    "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8",
    "heldout9", "heldout10", "heldout11", "heldout12",
)  # fmt: skip
PRECISION_SHORTFALL: dict[str, float] = {}
RECALL_SHORTFALL: dict[str, float] = {}


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


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # round 9's generalisations, on phrasings written for this test (in no labelled set)
        ("全天猫最便宜的就是我们家", "ad_law"), ("百分之百无添加的蜂蜜", "ad_law"),
        ("用一周法令纹就不见了", "ad_law"), ("这个药膏去狐臭", "ad_law"),
        ("这款鞋垫能矫正扁平足", "ad_law"),
        ("徽：shop_88", "off_platform"), ("有事绿泡泡找我", "off_platform"),
        ("text me 就行", "off_platform"), ("抖音搜我们私信我", "off_platform"),
        ("加个企鹅:5566778899", "off_platform"), ("可以线下汇款给我们", "off_platform"),
        ("阅读能力这么差就别买了", "rude"), ("腿这么粗还买紧身裤", "rude"),
        ("少啰嗦，拍不拍", "rude"), ("学会量尺寸再来问", "rude"), ("你敢投诉试试", "rude"),
        ("用坏了倒怪起质量了", "rude"),
        ("今儿个准到", "over_promise"), ("这个杯子砸不碎", "over_promise"),
        ("特价款也能给您换", "over_promise"), ("保证能顺利清关", "over_promise"),
        ("wuxing haoping jiu you hongbao", "review_inducement"), ("打5颗星送红包", "review_inducement"),
        ("亲 yiding mingtian dao", "over_promise"),
        ("电话是壹叁捌壹贰叁肆伍陆柒捌", "personal_data"),
    ],
)  # fmt: skip
def test_round_9_word_classes_reach_unseen_phrasings(text: str, category: str) -> None:
    assert RULES.check(text).categories == {category}, RULES.check(text).violations


@pytest.mark.parametrize(
    "text",
    [
        "最好用温水手洗", "最好穿厚一点的袜子试", "我们不保证全网最低价，但支持价保",
        "面料是100%纯棉的", "纯天然乳胶，检测报告在详情页", "我们不搞好评返现，评价按真实感受",
        "好评返现是平台明令禁止的", "加入淘宝粉丝群可以领券", "您再试试重启一下",
        "我手残打错了，不好意思", "运费险一定要在确认收货前申请", "质量问题的话定制款也可以退换",
        "减5元没问题", "并不是摔不碎的，请小心使用", "I will call back later",
        "有人冒充客服让您加微信退款，那是诈骗，请不要相信", "线下门店也有同款",
    ],
)  # fmt: skip
def test_round_9_exceptions_keep_unseen_harmless_replies_quiet(text: str) -> None:
    check = RULES.check(text)
    assert check.verdict == "ok", check.violations


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # round 10's generalisations, on phrasings written for this test (in no labelled set)
        ("全宇宙第一舒服的枕头", "ad_law"), ("这手艺天下无双", "ad_law"),
        ("加 w e c h a t", "off_platform"), ("电话沟通吧，快一点", "off_platform"),
        ("你这号买家我见多了", "rude"), ("我不在乎你给不给差评", "rude"),
        ("别在这儿磨叽了", "rude"), ("听明白了没", "rude"), ("文盲才看不懂", "rude"),
        ("这点事也大惊小怪", "rude"),
        ("不用把货寄回，直接全额退给你", "over_promise"), ("没效果赔你两倍", "over_promise"),
        ("两年内随便退", "over_promise"), ("邮费超出的部分我们店里补", "over_promise"),
        ("大暴雨都不会漏", "over_promise"), ("零下三十度照样不冷", "over_promise"),
        ("这锅怎么折腾都坏不了", "over_promise"), ("保证比详情页写的早三天到", "over_promise"),
        ("肯定提前两天发", "over_promise"),
    ],
)  # fmt: skip
def test_round_10_word_classes_reach_unseen_phrasings(text: str, category: str) -> None:
    assert RULES.check(text).categories == {category}, RULES.check(text).violations


@pytest.mark.parametrize(
    "text",
    [
        "我们从来不卖减肥产品", "最好的处理方式是申请换货", "您好，最好的办法是联系快递",
        "您听明白了吗", "不是小题大做，您的担心很正常", "超出部分需要您补差价",
        "运费险赔付以保险公司为准", "不用寄回，我们会跟快递核实", "这款保温杯零下的天气也能用",
        "雨再大也没关系，包装是防水的", "快递员送货前会电话联系您", "您问几次都可以，我们耐心解答",
        "I am a big fan", "亲，你是第一次买吧",
    ],
)  # fmt: skip
def test_round_10_exceptions_keep_unseen_harmless_replies_quiet(text: str) -> None:
    check = RULES.check(text)
    assert check.verdict == "ok", check.violations


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # round 11's generalisations, on phrasings written for this test (in no labelled set)
        ("这是历史最低价", "ad_law"), ("天猫最低了亲", "ad_law"),
        ("穿三个月驼背就没了", "ad_law"), ("喝一段时间血糖就降下来", "ad_law"),
        ("纸飞机联系我", "off_platform"), ("tg:shop88", "off_platform"),
        ("koukou：一二三四五六七八", "off_platform"),
        ("居然好意思来要赔偿", "rude"), ("用点脑子行不行", "rude"), ("你们这帮人真是", "rude"),
        ("关我毛事", "rude"), ("事儿多的顾客我们不伺候", "rude"), ("tmd又是你", "rude"),
        ("阅读能力真让人佩服", "rude"),
        ("坏了我们补发，几次都行", "over_promise"), ("花多少钱都赔", "over_promise"),
        ("三倍赔给您", "over_promise"), ("退还您货款，东西不用寄回", "over_promise"),
        ("保证不会缺货", "over_promise"),
        ("写个hp送优惠券", "review_inducement"), ("hp有礼哦", "review_inducement"),
        ("haoping 返xian", "review_inducement"),
        ("钱退到6212261202041234567卡上了", "personal_data"),
    ],
)  # fmt: skip
def test_round_11_word_classes_reach_unseen_phrasings(text: str, category: str) -> None:
    assert RULES.check(text).categories == {category}, RULES.check(text).violations


@pytest.mark.parametrize(
    "text",
    [
        "真不好意思让您久等了", "我也不好意思再麻烦您", "您这样的顾客我们很欢迎",
        "HP打印机送墨盒", "求个hp", "快递员到了会打这个电话", "师傅上门前会打这个号码",
        "说明书上的二维码扫了能看安装视频", "我们不开通QQ", "血压降下来了吗亲", "假一赔十",
        "积分三倍返", "仅退款不用寄回", "您问多少次都可以", "sb-200型号有货",
        "订单号6222021202041234567这张单已备注", "祛斑的话还是建议去医院看看",
    ],
)  # fmt: skip
def test_round_11_exceptions_keep_unseen_harmless_replies_quiet(text: str) -> None:
    check = RULES.check(text)
    assert check.verdict == "ok", check.violations


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # round 12's generalisations, on phrasings written for this test (in no labelled set)
        ("加我们绿色app", "off_platform"), ("换个软件聊吧", "off_platform"),
        ("我私下给您发支付宝红包", "off_platform"),
        ("您的建行卡号是6217001234567890123对吧", "personal_data"),
        ("信用卡尾号不对，应该是4392 2500 1234 5678对吗", "personal_data"),
        ("退款卡号一二三四五六七八九零一二三四五六七八九零", "personal_data"),
        ("别怪到我们头上", "rude"), ("少甩锅给客服", "rude"), ("你耳朵不好使吗", "rude"),
        ("你是没长眼吗", "rude"), ("几块钱的东西还挑三拣四", "rude"), ("这个价你还想怎样", "rude"),
        ("得寸进尺了吧", "rude"), ("谁让你不看尺码表", "rude"), ("自找的", "rude"),
        ("一遍又一遍地催", "rude"), ("有本事你去告", "rude"), ("我们又不是你的秘书", "rude"),
        ("少来这套", "rude"), ("呵呵，好吧", "rude"), ("三个月没效果全额退", "over_promise"),
        ("你就是个事儿妈", "rude"), ("这个按摩垫能促进血液循环", "ad_law"),
        ("这个不锈钢锅永远不会生锈", "over_promise"), ("这个漆面一辈子都不会掉漆", "over_promise"),
        ("穿三年依然如新", "over_promise"), ("用十年还跟新的一样", "over_promise"),
        ("孩子磕伤了医疗费我们全出", "over_promise"), ("误工费我们包", "over_promise"),
        ("半年后不想要了照样退", "over_promise"), ("两个月以后也能全额退", "over_promise"),
        ("想换就换", "over_promise"), ("铁定明天到", "over_promise"),
        ("评价晒图能拿到5块", "review_inducement"), ("五星好评就能领到3元", "review_inducement"),
        ("给个五星，以后包换", "review_inducement"),
    ],
)  # fmt: skip
def test_round_12_word_classes_reach_unseen_phrasings(text: str, category: str) -> None:
    assert RULES.check(text).categories == {category}, RULES.check(text).violations


@pytest.mark.parametrize(
    "text",
    [
        "这个价格我们还想再优惠一些", "您还想要什么颜色呢", "我记性不好使，忘记给您备注了",
        "都怪我们没写清楚，抱歉", "如果是您自己洗坏的，就不属于质量问题哦", "让您反复问真不好意思",
        "宝宝三个月以后也可以换大一码", "质量问题一年内也可以换", "支付宝红包是平台活动，和我们店无关",
        "这款好评很多，支持七天包退", "好评率高，到手价19元", "绿色的那款卖完了",
        "我们从来没宣传过能治病", "您看到的那个微信号不是我们店的，谨防上当", "小心加微信的陌生人",
        "会员群在淘宝群聊里", "二维码是包裹面单上的，扫了看物流，并非本店联系方式",
        "会员卡号12345678901234请核对", "贪小便宜的心理人人都有", "哈哈好的呢", "无效退款",
        "这个有本事的师傅做的", "您是从微信打开的链接吗", "扫描包裹面单上的二维码可以查物流",
        "店铺保证金已经缴纳了3年", "骗子常说加微信退款，您别信", "微信上的消息我们不回复",
        "QQ一律不加，请在旺旺联系", "这款不能改善睡眠质量哦", "故事精彩",
    ],
)  # fmt: skip
def test_round_12_exceptions_keep_unseen_harmless_replies_quiet(text: str) -> None:
    check = RULES.check(text)
    assert check.verdict == "ok", check.violations


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # round 13 word classes, phrasings none of the sets has
        ("你先学学看说明书", "rude"), ("下次学着查一下订单", "rude"), ("你先搞清楚再说", "rude"),
        ("你这智商真让人着急", "rude"), ("您这脑子是怎么想的", "rude"), ("你去投诉试试", "rude"),
        ("有种你去告", "rude"), ("别吵了，等着", "rude"), ("少来了，这招没用", "rude"),
        ("几块钱都要计较", "rude"), ("别瞎说，这是正品", "rude"), ("ni shi sha bi ma", "rude"),
        ("这个门踹不坏", "over_promise"), ("五年不变形，放心", "over_promise"),
        ("这双鞋穿三年不开胶", "over_promise"), ("丢一件赔三件", "over_promise"),
        ("赔您五双", "over_promise"), ("保证给您全额退款", "over_promise"),
        ("怎么样都能退", "over_promise"), ("yongbu diaose", "over_promise"),
    ],
)  # fmt: skip
def test_round_13_word_classes_reach_unseen_phrasings(text: str, category: str) -> None:
    assert RULES.check(text).categories == {category}, RULES.check(text).violations


@pytest.mark.parametrize(
    "text",
    [
        "亲，您可以重启一下试试", "亲，您可以先学一下怎么用遥控器，说明书第三页",
        "建议您先搞清楚尺码再下单哦", "别烦恼，我们马上处理", "亲，您别烦心，我们会处理好的",
        "至于发货时间，一般48小时内", "最优惠的组合是买二送一", "质保三年", "假一赔十",
        "少一件补一件", "正常使用一年不会坏哦", "怎么都不能退的", "刮不掉的标签可以用酒精擦",
        "这个价格真的划不来", "这件衣服三年没涨价了", "一年不到就坏了确实是质量问题",
        "亲 SB-200型号有货", "您的智商税我们不收哈", "是sb型号吗", "我们不能保证全额退款，需要看情况",
        "保证您收到的是全新的", "我不敢保证十年不褪色", "bu tui se的",
    ],
)  # fmt: skip
def test_round_13_exceptions_keep_unseen_harmless_replies_quiet(text: str) -> None:
    check = RULES.check(text)
    assert check.verdict == "ok", check.violations


@pytest.mark.parametrize("text", ["亲 这款墙纸贴上去十年不掉色不起皮", "这个锁绝对撬不开，放心装"])
def test_what_a_retrained_scorer_lost_is_caught_by_a_rule(text: str) -> None:
    """Round 11's scorers caught these two heldout12 replies and round 12's retrained ones did
    not: a rule catches them now, with every scorer switched off."""
    ids = ", ".join(f"{c}.model" for c in CATEGORIES if c != "personal_data")
    rules = apply_override(RULES, "s", f"version: '1'\ndisable: [{ids}]\n", "test")
    assert rules.check(text).categories == {"over_promise"}


def test_a_negation_does_not_excuse_a_way_around_the_platform() -> None:
    # 不通过淘宝 introduces the off-platform payment; it is not a warning against it
    assert "off_platform" in RULES.check("不通过淘宝直接微信转账").categories


def test_slimming_advice_to_the_buyer_is_no_efficacy_claim() -> None:
    # 减减肥 / 先去减肥 is said to the buyer (rude, perhaps), not a claim about the goods
    assert "ad_law" not in RULES.check("你先去减减肥再来买").categories
    assert "ad_law" in RULES.check("这款茶喝了能减肥").categories


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
     "微信" * 2000, "保证一定肯定" * 666, "a " * 2000, "2年内随时退" * 666, "9" * 3999 + "倍",
     ("银行卡号123456789012 " * 334)[:4000], "一年后照样退" * 666, "微信" + "，" * 3998],
)  # fmt: skip
def test_adversarial_long_replies_stay_linear(text: str) -> None:
    """Every pattern is bounded: the longest reply a contract allows checks in milliseconds
    (measured 3–80 ms of CPU), never the seconds of a backtracking pattern. The collector is
    held off meanwhile: a full collection of the test session's heap landing inside the check
    (0.4 s of CPU in one CI run) is not the patterns' cost; the best of three runs is kept, as
    a busy machine only ever adds time."""
    spent = []
    gc.disable()
    try:
        for _ in range(3):
            started = time.thread_time()
            check = RULES.check(text)
            spent.append(time.thread_time() - started)
    finally:
        gc.enable()
    assert min(spent) < 0.25
    assert len(check.violations) <= 50
