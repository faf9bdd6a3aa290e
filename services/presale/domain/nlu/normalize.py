"""Text normalisation: one canonical form for every way buyers type the same thing.

Full-width → half-width (NFKC), lower case, traditional → simplified characters (a small
built-in table of the characters buyer messages use), Chinese numerals → Arabic digits where
they are numbers (一米六五 → 1米65, 一百一十斤 → 110斤, 两件 → 2件), emoji pulled out.
"""

from __future__ import annotations

import re

from shared.text import fold

# Traditional → simplified for the characters that matter in shop chats (no network, no lib).
_TRAD = (
    "這个嗎麼沒貨碼號價錢優郵發運費遞顏長換謝幫買賣單訂質問題還時間東給說話聯繫係轉會開寶貝寬鬆"
    "適體紅藍綠黃銀亂壞損錯髮請們爲為麽幾點兒讓對應該過來後從裡裏裝廠產現實際評態處辦認識達鐘鍾"
    "週條雙襪褲領純絲滌綸無與專業務貴塊減滿贈禮紙稅類別種樣顯試選擇薦風動靜庫補齊斷進詢趕緊區縣"
    "鎮戶帳賬網絡頓綁銷爛髒縫線脫舊異氣騙圾訴舉報惡級經紀錄記憶準確煩關閉歡親聽見覺讀寫當隻雖總"
    "結麥鬥檢測頁圖視頻護燙機電夠團購屬權員積劵擊隔陰陽將麗彈縮紡織絨囉齡歲媽婦車邊極順豐韻圓據"
    "證憑遲誤啟雜漲虧賠償個們嗎尋麼幣優惠劃撥盤貼壓價衛羽綫鈕釦扣濕乾淨鬧廢聲響燈饋歸範圍鑽頸腳"
    "膚膠廣場覽簡繁華麼鬚嚴鍋壺碗盞籃櫃櫥窗簾層牆闆闊驗證銷緻細膩閃憂慮捲撐蓋廚餅糧藥劑瓶罐"
)
_SIMP = (
    "这个吗么没货码号价钱优邮发运费递颜长换谢帮买卖单订质问题还时间东给说话联系系转会开宝贝宽松"
    "适体红蓝绿黄银乱坏损错发请们为为么几点儿让对应该过来后从里里装厂产现实际评态处办认识达钟钟"
    "周条双袜裤领纯丝涤纶无与专业务贵块减满赠礼纸税类别种样显试选择荐风动静库补齐断进询赶紧区县"
    "镇户账账网络顿绑销烂脏缝线脱旧异气骗圾诉举报恶级经纪录记忆准确烦关闭欢亲听见觉读写当只虽总"
    "结麦斗检测页图视频护烫机电够团购属权员积券击隔阴阳将丽弹缩纺织绒啰龄岁妈妇车边极顺丰韵圆据"
    "证凭迟误启杂涨亏赔偿个们吗寻么币优惠划拨盘贴压价卫羽线钮扣扣湿干净闹废声响灯馈归范围钻颈脚"
    "肤胶广场览简繁华么须严锅壶碗盏篮柜橱窗帘层墙板阔验证销致细腻闪忧虑卷撑盖厨饼粮药剂瓶罐"
)
assert len(_TRAD) == len(_SIMP), "trad/simp tables must align"
TRAD_TO_SIMP: dict[str, str] = {t: s for t, s in zip(_TRAD, _SIMP, strict=True) if t != s}
SIMP_TO_TRAD: dict[str, str] = {}
for _t, _s in TRAD_TO_SIMP.items():
    SIMP_TO_TRAD.setdefault(_s, _t)
_TRAD_TABLE = str.maketrans(TRAD_TO_SIMP)

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9}  # fmt: skip
_POS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十百千]+")
# A lone numeral is a number only before a unit; 一下/一样/一直 stay words.
_UNIT_AFTER = set("米斤件个条双套瓶盒包只份码号天块元kg公厘寸岁周月年台张支")
_WORD_AFTER = ("一下", "一样", "一直", "一起", "一般", "一点", "一定", "一些", "一会", "一次")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u2764\u263a]", re.UNICODE
)
EMOJI_POSITIVE = set("😊😄😁😀🥰😘👍👌💕❤🌹😍🙏🤗😃☺💯✨")
EMOJI_NEGATIVE = set("😢😭😞😔🙄😒😓😩😫💔😟😕👎")
EMOJI_ANGRY = set("😡🤬💢😠👊😤🖕")


def _numeral_value(run: str) -> int:
    """一百六十五 → 165, 十五 → 15, 两 → 2; digit strings without 十/百/千 are read digit by digit."""
    if not any(c in _POS for c in run):
        return int("".join(str(_DIGIT[c]) for c in run))
    total, current = 0, 0
    for c in run:
        if c in _DIGIT:
            current = _DIGIT[c]
        else:
            total += (current or 1) * _POS[c]
            current = 0
    return total + current


def _convert_run(run: str, after_metre: bool) -> str:
    """Digits of one numeral run; 一米五零一百六十六 splits into 50 and 166 after 米."""
    if after_metre and any(c in _POS for c in run):
        for k in (2, 1):
            head, rest = run[:k], run[k:]
            if (
                rest
                and all(c in _DIGIT for c in head)
                and (rest[0] in _POS or (len(rest) > 1 and rest[1] in _POS))
            ):
                return f"{_numeral_value(head)} {_numeral_value(rest)}"
    return str(_numeral_value(run))


def _replace_numerals(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        start, end = m.span()
        before, after = text[start - 1 : start], text[end : end + 1]
        if text[start : start + 2] in _WORD_AFTER and len(run) == 1:
            return run
        if len(run) == 1 and after not in _UNIT_AFTER:
            # 一米六 → the 六 after 米 is a decimetre digit
            if before == "米" and run in _DIGIT:
                return str(_DIGIT[run]) + (" " if after.isdigit() else "")
            return run
        if run in ("十", "千") and after not in _UNIT_AFTER:
            return run
        digits = _convert_run(run, before == "米")
        # keep numbers apart: 1米52九十八斤 → 1米52 98斤, 一米八一63kg → 1米81 63kg
        return (" " if before.isdigit() else "") + digits + (" " if after.isdigit() else "")

    return _NUMERAL_RUN.sub(repl, text)


# Colloquial spellings and common typos → the standard word (longest first).
_VARIANTS = {
    "神马": "什么", "啥子": "什么", "啥": "什么", "咋": "怎么", "肿么": "怎么", "木有": "没有", "介个": "这个",
    "包油": "包邮", "快第": "快递", "快滴": "快递", "发伙": "发货", "尺吗": "尺码", "优慧": "优惠", "现再": "现在",
    "衣福": "衣服", "在马": "在吗", "一哈": "一下", "3q": "谢谢", "稀饭": "喜欢", "多钱": "多少钱", "肿么办": "怎么办",
    "俺": "我", "偶": "我", "滴": "的", "嘞": "了", "咧": "了", "鸭": "呀", "么么哒": "谢谢",
}  # fmt: skip
_VARIANT = re.compile("|".join(sorted(map(re.escape, _VARIANTS), key=len, reverse=True)))
# 么/嘛 as a question particle is 吗 (but 什么/怎么/那么/这么/多么/要么 keep their 么).
# Pasted links and the platform's share text (【淘宝】… 「title」 … 点击链接直接打开): the link is one
# word, 链接; the title is the item's name, not the buyer's question, and is dropped.
_URL = re.compile(r"(?:https?://|www\.|m\.tb\.cn/|tb\.cn/)[\w./?=&%#:+~-]*")
_SHARE = re.compile(
    r"【(?:淘宝|天猫|手机淘宝|闲鱼|淘宝网)】|「[^」]*」|(?:点击|复制)(?:本?条?链接|本条信息|这条信息)?"
    r"[^,，。!！?？]{0,12}?(?:直接)?打开(?:淘宝|手淘|手机淘宝)?|(?:或者?)?淘宝搜索直接打开|"
    r"[¥￥$€₤][a-z0-9]{6,14}[¥￥$€₤]"
)
_MAY_BE_PASTED = re.compile(r"[/【「¥￥$€₤]|打开")
_MA = re.compile(r"(?<![什怎那这多要])[么嘛](?=$|[\s,.!?~，。！？～]|[呢哦啊哈呀吖])")


def split_emoji(text: str) -> tuple[str, list[str]]:
    """The text without emoji, and the emoji it had."""
    found = _EMOJI.findall(text)
    return (_EMOJI.sub(" ", text) if found else text), found


def emoji_moods(emoji: list[str]) -> list[str]:
    """The mood each emoji shows (positive / negative / angry); neutral emoji are dropped."""
    moods = []
    for e in emoji:
        if e in EMOJI_ANGRY:
            moods.append("angry")
        elif e in EMOJI_NEGATIVE:
            moods.append("negative")
        elif e in EMOJI_POSITIVE:
            moods.append("positive")
    return moods


def to_simplified(text: str) -> str:
    return text.translate(_TRAD_TABLE)


def normalize(text: str) -> str:
    """Canonical text (emoji kept) for features and entity extraction."""
    text = fold(text)
    if _MAY_BE_PASTED.search(text):
        text = _SHARE.sub(" ", _URL.sub(" 链接 ", text))
    text = to_simplified(text)
    text = _VARIANT.sub(lambda m: _VARIANTS[m.group(0)], text)
    text = _MA.sub("吗", text)
    text = _replace_numerals(text)
    return re.sub(r"\s+", " ", text).strip()
