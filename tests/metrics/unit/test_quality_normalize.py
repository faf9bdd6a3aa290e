"""The normalised text the quality rules match, and spans mapped back to the original reply."""

from __future__ import annotations

import pytest

from services.metrics.domain.quality.normalize import fold, normalize
from services.metrics.quality.rulebook import load_defaults

RULES = load_defaults()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("加个ｗｘ：ｌｉｎｇ＿９９", "加个wx:ling_99"),  # full-width letters, digits, colon
        ("微 信 号 发 您 了", "微信号发您了"),  # spaces between characters
        ("wei xin", "wei xin"),  # ... but not between two Latin letters
        ("iphone 15", "iphone15"),
        ("加\u200b微\u200d信", "加微信"),  # zero-width characters
        ("V❤️：abc", "v:abc"),  # decoration and its variation selector
        ("好.评/返-现", "好评返现"),  # separators inserted between single characters
        ("1-3-8-0-0-1-3-8-0-0-0", "13800138000"),
        ("①⑧⑥", "186"),  # enclosed digits
        ("一三八一二三四五六七八", "13812345678"),  # spelled-out number, six or more
        ("幺三五 幺二三四 五六七八", "13512345678"),
        ("一二天到", "一二天到"),  # short runs stay words
        ("薇信 威信 徽信 v信", "微信微信微信微信"),
        ("手機號 好評", "手机号好评"),  # traditional to simplified
        ("⭐⭐⭐⭐⭐➕图", "星星星星星+图"),
        ("138****1234", "138****1234"),  # a masked phone stays masked
        ("https://m.tb.cn/h.UaBc", "https://m.tb.cn/h.uabc"),  # URLs keep their dots
        ("2026-12-03 发货", "2026-12-03发货"),
        ("zui好用的 zui便宜", "最好用的最便宜"),  # pinyin for 最, next to Chinese only
        ("蕞好的", "最好的"),
        ("tb外面聊 来tb", "淘宝外面聊来淘宝"),
        ("zuizui zuiyou", "zuizui zuiyou"),  # Latin words stay as they are
        ("https://m.tb.cn/h.x 和 stb盒子", "https://m.tb.cn/h.x和stb盒子"),
        # round 9: pinyin words the rules look for, joined or by syllable; financial numerals
        ("haoping fanxian 5 yuan", "好评返现5yuan"),
        ("hao ping fan xian", "好评返现"),
        ("mingtian yiding dao 哈", "明天一定到哈"),
        ("tao dao le", "tao dao le"),  # dao alone stays a syllable
        ("shopping mall", "shopping mall"),  # ...and English words stay English
        ("壹叁玖伍柒壹贰捌捌陆肆", "13957128864"),
        ("壹贰天", "壹贰天"),  # short runs stay words
        # round 10: a word spelled letter by letter, four single letters or more
        ("w e i x i n 号", "weixin号"),
        ("加 w  e c h a t", "加wechat"),
        ("plan a b c", "plan a b c"),
        ("i am a big fan", "i am a big fan"),
        # round 11: kou kou, half pinyin inside a word, hp for 好评 beside a reward or a request
        ("kou kou：三三八八九九零零一", "扣扣:338899001"),
        ("好pin返xian 5元", "好评返现5元"),
        ("hao评fan现", "好评返现"),
        ("给个hp 返2r", "给个好评返2r"),
        ("hp打印机 hp-2000 型号", "hp打印机hp-2000型号"),  # a brand or model stays
    ],
)
def test_normalised_text(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_fold_keeps_one_character_for_one() -> None:
    text = "Ｖ①號⭐ 微 信"
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize(
    "text",
    [
        "加 个 微 信：ab 12 34",
        "好\u200b评\u200b返\u200b现",
        "电话 1-3-8-0-0-1-3-8-0-0-0 收件",
        "ＶＸ：ｋｆ８８",
        "亲 zui好用 的 zui 便宜 tb外",
        "hao ping fan xian 5 yuan，找我",
        "亲 mingtian yi ding dao 哦",
    ],
)
def test_spans_index_the_original_text(text: str) -> None:
    normal = normalize(text)
    for start in range(len(normal.text)):
        for end in range(start + 1, len(normal.text) + 1):
            a, b = normal.span(start, end)
            assert 0 <= a < b <= len(text)
            # every normalised character comes from the original span
            assert all(
                normal.positions is None or a <= normal.positions[i] < b for i in range(start, end)
            )


@pytest.mark.parametrize(
    ("text", "category", "flagged"),
    [
        ("加 我 微 信 详 聊", "off_platform", "加 我 微 信"),
        ("您的手机号一三八一二三四五六七八对吧", "personal_data", "一三八一二三四五六七八"),
        ("收件人电话 1 5 8 0 0 0 0 1 2 3 4", "personal_data", "1 5 8 0 0 0 0 1 2 3 4"),
        ("好.评.返.现，截图找我", "review_inducement", "好.评.返.现"),
        ("这是zui 好 的面料", "ad_law", "zui 好 的"),
        ("hao ping fan xian 送5元", "review_inducement", "hao ping fan xian"),
        ("电话壹叁玖伍柒壹贰捌捌陆肆", "personal_data", "壹叁玖伍柒壹贰捌捌陆肆"),
    ],
)
def test_evasions_are_caught_and_reported_on_the_original(
    text: str, category: str, flagged: str
) -> None:
    found = [v for v in RULES.check(text).violations if v.category == category]
    assert found, RULES.check(text)
    spans = {text[v.start : v.end] for v in found}
    assert any(flagged in s or s in flagged for s in spans), spans


@pytest.mark.parametrize(
    "text",
    [
        "微信支付的话淘宝这边没有这个选项",
        "这是Q弹的果冻口感",
        "这款V领的更显脸小",
        "手机尾号5678的收件人",
        "2026-12-03 发货",
    ],
)
def test_normalisation_does_not_make_harmless_replies_fire(text: str) -> None:
    assert RULES.check(text).violations == ()
