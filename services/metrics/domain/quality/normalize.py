"""The text the rules match: an agent's reply normalised against evasions and variants. Pure.

Agents (and the people who write rules) spell the same thing many ways: 微 信, 薇信, ＶＸ, 一三八…,
1-3-8-…, 好 评 返 现, 號. Rules written for one spelling miss the others, so every rule, detector
and scorer reads one normalised copy of the reply:

1. **Character folding** (one character for one): full-width and compatibility forms to their
   plain form where NFKC gives one character (Ｖ → v, ① → 1, ❼ → 7, 𝐯 → v), lower case, a few
   traditional characters to simplified (號 → 号, 評 → 评), star emoji to 星, ➕ to +.
2. **Dropped characters**: zero-width and decorative characters (❤, ♥, ✨…); spaces, except
   between two Latin letters (wei xin keeps its word break); separators inserted between single
   characters (加.微.信, 1-3-8-0…, 好/评/返/现); spaces inside a word spelled letter by letter,
   four single letters or more (w e i x i n → weixin, w e c h a t → wechat).
3. **Chinese numerals in a run of six or more** (一三八一二三四五六七八, 幺三五…, 零 and 〇) to
   digits, so a phone, ID or QQ number spelled out is a number; shorter runs (一二天, 五六件)
   stay words.
4. **Pinyin words** the rules look for, as whole Latin words (haoping fanxian → 好评返现,
   mingtian yiding dao → 明天一定到), and financial numerals (壹贰叁…) in step 3's runs.
5. **Variant spellings** of contact words to one form (薇信/威信/徽信/维信/v信 → 微信), and
   letters written for a word the rules look for, next to Chinese characters only: zui → 最
   (zui好用; 蕞 too), tb → 淘宝 (tb外面聊).

Every step keeps a map from each character of the normalised text to its character in the
original, so a span found in the normalised text is reported on the original text
(`Normalized.span`). Cost: a few `str.translate`/regex passes; the per-character map is only
built when a character is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TRAD_FROM = (
    "號評現價轉賬買賣戶話電機碼圖禮紅讓會絕對證遠療藥費發貨補給錢關聯係絡線銀額寶裡這個們說問"
    "壞煩滾腦殘癡級頂領導極優網國無條換準滿賠贈質運點縮顏開專順豐遞幾時間體謝見貼親單訂過鏈裝"
    "實驗檢險惠劵臉膚癢醫藥應該證頭髮減肥訊聊拍標識權"
)
_TRAD_TO = (
    "号评现价转账买卖户话电机码图礼红让会绝对证远疗药费发货补给钱关联系络线银额宝里这个们说问"
    "坏烦滚脑残痴级顶领导极优网国无条换准满赔赠质运点缩颜开专顺丰递几时间体谢见贴亲单订过链装"
    "实验检险惠券脸肤痒医药应该证头发减肥讯聊拍标识权"
)


def _table() -> dict[int, int]:
    table: dict[int, int] = {}
    ranges = [
        (0xFF01, 0xFF5F),  # full-width ASCII
        (0x2460, 0x2469),  # ① … ⑨ (⑩ and up become two characters: left alone)
        (0x24B6, 0x24EA),  # Ⓐ … ⓩ, ⓪
        (0x2776, 0x277F),  # ❶ … ❾
        (0x2780, 0x2789),  # ➀ … ➈
        (0x278A, 0x2793),  # ➊ … ➒
        (0x2F00, 0x2FD6),  # Kangxi radicals that look like characters (⼀ → 一)
        (0x1D400, 0x1D7FF),  # mathematical letters and digits (𝐯 → v)
    ]
    for lo, hi in ranges:
        for code in range(lo, hi):
            plain = unicodedata.normalize("NFKC", chr(code)).lower()
            if len(plain) == 1 and plain != chr(code):
                table[code] = ord(plain)
    table[0x3000] = 0x20  # ideographic space
    for a, b in zip(_TRAD_FROM, _TRAD_TO, strict=True):
        table[ord(a)] = ord(b)
    for star in "⭐★🌟✩✰":
        table[ord(star)] = ord("星")
    table[ord("蕞")] = ord("最")  # a look-alike used to dodge the 最 rules
    table[ord("➕")] = ord("+")
    table[ord("﹢")] = ord("+")
    return table


_FOLD = _table()

# Characters that carry nothing: zero-width ones, soft hyphen, decorative symbols (not the
# sentence punctuation the rules use for context).
_DECOR = "\ufe0e\ufe0f\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad❤♥♡❥💕💖💗💓✨❀✿♪♫"
_DROP = re.compile(
    rf"[{_DECOR}]+"
    r"|(?<![a-z])[ \t\xa0]+|[ \t\xa0]+(?![a-z \t\xa0])"  # spaces, except between two Latin letters
)
# A separator inserted between single characters, three or more in a row: 加.微.信, 1-3-8-0.
_SPACED = re.compile(r"(?:[\u4e00-\u9fff0-9][.\-_·~/|—–])+[\u4e00-\u9fff0-9]")
_SEPARATOR = re.compile(r"[.\-_·~/|—–]")
# A word spelled letter by letter: four single Latin letters or more, spaces between (w e i x i n).
_SPELLED = re.compile(r"(?<![a-z])[a-z](?:[ \t\xa0]+[a-z](?![a-z])){3,}")
_GAP = re.compile(r"[ \t\xa0]+")
_CN_DIGITS = re.compile(r"[零〇一二三四五六七八九幺两壹贰貳叁叄肆伍陆陸柒捌玖]{6,}")
_CN_TO_DIGIT = str.maketrans(
    "零〇一二三四五六七八九幺两壹贰貳叁叄肆伍陆陸柒捌玖", "0012345678912122334566789"
)
_VARIANTS = re.compile(r"[薇威徽维唯卫v]信|微芯")
# Pinyin or letters written for a word the rules look for: zui好 → 最好, tb外面 → 淘宝外面. Only
# between Chinese characters (or the text's edge), so English words are never touched.
_PINYIN = re.compile(r"(?<![a-z])zui(?=[\u4e00-\u9fff])")
# Whole pinyin words for the words the rules look for (haoping fanxian → 好评返现, mingtian
# yiding dao → 明天一定到): long syllable pairs no English word spells; the one-syllable dao
# (到) only right after a guarantee or a day word, where it cannot be anything else.
_PINYIN_WORDS = {
    "hao ping": "好评", "wu xing": "五星", "fan xian": "返现", "hong bao": "红包",
    "shai tu": "晒图", "cha ping": "差评", "zhi fu bao": "支付宝", "zhuan zhang": "转账",
    "yi ding": "一定", "ken ding": "肯定", "bao zheng": "保证", "jue dui": "绝对",
    "ming tian": "明天", "hou tian": "后天", "jin tian": "今天", "quan wang": "全网",
    "jia wo": "加我", "kou kou": "扣扣",
    # round 13: never-fade claims and insults typed in pinyin (yong bu tui se, sha bi)
    "yong bu": "永不", "tui se": "褪色", "diao se": "掉色", "qi qiu": "起球",
    "sha bi": "傻逼", "nao can": "脑残", "bai chi": "白痴", "ruo zhi": "弱智",
}  # fmt: skip
# written together or syllable by syllable (haoping, hao ping)
_PINYIN_WORD = re.compile(
    r"(?<![a-z])(?:" + "|".join(w.replace(" ", "[ \t]?") for w in _PINYIN_WORDS) + r")(?![a-z])"
)
_PINYIN_JOINED = {w.replace(" ", ""): c for w, c in _PINYIN_WORDS.items()}
_PINYIN_GAP = re.compile(r"[ \t]")
_PINYIN_DAO = re.compile(
    r"(?:(?<=一定)|(?<=肯定)|(?<=保证)|(?<=绝对)|(?<=明天)|(?<=后天)|(?<=[准必就]))dao(?![a-z])"
)
# Half pinyin inside a word the rules look for (好pin返xian → 好评返现): a syllable right after
# the character it completes, so only that word is touched.
_HALF_PINYIN = re.compile(r"(?<=好)ping?(?![a-z])|(?<=返)xian(?![a-z])|hao(?=评)|fan(?=现)")
_HALF_PINYIN_WORD = {"pin": "评", "ping": "评", "xian": "现", "hao": "好", "fan": "返"}
# hp for 好评 (给个hp, hp返2r): only where a reward or a request makes it that word, never
# beside an English word or a model name (hp打印机 stays).
_HP = re.compile(r"(?<=[给打求写留个])hp(?![a-z0-9])|(?<![a-z0-9])hp(?=[返反送]|有礼|截图)")
_TB = re.compile(r"(?<![a-z0-9./:])tb(?![a-z0-9./])")  # not in a link: m.tb.cn stays


@dataclass(frozen=True)
class Normalized:
    text: str
    positions: tuple[int, ...] | None  # original index of each character; None: the identity

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `text[start:end]` came from."""
        if self.positions is None or start >= end:
            return start, end
        return self.positions[start], self.positions[end - 1] + 1


def fold(text: str) -> str:
    """Step 1 only: one character for one (spans stay valid)."""
    folded = text.translate(_FOLD)
    lowered = folded.lower()
    return lowered if len(lowered) == len(folded) else folded


def _drop(
    text: str, positions: list[int] | range, spans: list[tuple[int, int]]
) -> tuple[str, list[int]]:
    parts: list[str] = []
    kept: list[int] = []
    last = 0
    for a, b in spans:
        parts.append(text[last:a])
        kept.extend(positions[last:a])
        last = b
    parts.append(text[last:])
    kept.extend(positions[last:])
    return "".join(parts), kept


def _inner_separators(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _SPACED.finditer(text):
        if len(m.group()) >= 5:  # three characters and two separators at least
            spans += [
                (m.start() + s.start(), m.start() + s.end()) for s in _SEPARATOR.finditer(m.group())
            ]
    return spans


def _substitute(
    text: str, positions: list[int] | range, found: list[tuple[int, int, str]]
) -> tuple[str, list[int]]:
    """Each (start, end) replaced by a word no longer than it: its characters map to the
    span's characters in order, its last to the span's last (a span keeps the whole word)."""
    parts: list[str] = []
    kept: list[int] = []
    last = 0
    for a, b, word in found:
        parts += [text[last:a], word]
        kept.extend(positions[last:a])
        kept.extend(positions[a + i] for i in range(len(word) - 1))
        kept.append(positions[b - 1])
        last = b
    parts.append(text[last:])
    kept.extend(positions[last:])
    return "".join(parts), kept


def normalize(text: str) -> Normalized:
    folded = fold(text)
    positions: list[int] | range = range(len(folded))
    if _PINYIN_WORD.search(folded):
        found = [
            (m.start(), m.end(), _PINYIN_JOINED[_PINYIN_GAP.sub("", m.group())])
            for m in _PINYIN_WORD.finditer(folded)
        ]
        folded, positions = _substitute(folded, positions, found)
    dropped = [m.span() for m in _DROP.finditer(folded)]
    if dropped:
        folded, positions = _drop(folded, positions, dropped)
    if spelled := [
        (m.start() + g.start(), m.start() + g.end())
        for m in _SPELLED.finditer(folded)
        for g in _GAP.finditer(m.group())
    ]:
        folded, positions = _drop(folded, positions, spelled)
    inner = _inner_separators(folded)
    if inner:
        folded, positions = _drop(folded, positions, inner)
    if "zui" in folded and (zui := [m.start() for m in _PINYIN.finditer(folded)]):
        folded, positions = _drop(folded, positions, [(z + 1, z + 3) for z in zui])
        chars = list(folded)
        for k, z in enumerate(zui):
            chars[z - 2 * k] = "最"
        folded = "".join(chars)
    if "dao" in folded and _PINYIN_DAO.search(folded):
        found = [(m.start(), m.end(), "到") for m in _PINYIN_DAO.finditer(folded)]
        folded, positions = _substitute(folded, positions, found)
    if ("pin" in folded or "xian" in folded or "hao" in folded or "fan" in folded) and (
        half := [
            (m.start(), m.end(), _HALF_PINYIN_WORD[m.group()])
            for m in _HALF_PINYIN.finditer(folded)
        ]
    ):
        folded, positions = _substitute(folded, positions, half)
    if "hp" in folded and (hp := [(m.start(), m.end(), "好评") for m in _HP.finditer(folded)]):
        folded, positions = _substitute(folded, positions, hp)
    if "tb" in folded:
        folded = _TB.sub("淘宝", folded)
    if _CN_DIGITS.search(folded):
        folded = _CN_DIGITS.sub(lambda m: m.group().translate(_CN_TO_DIGIT), folded)
    if _VARIANTS.search(folded):
        folded = _VARIANTS.sub("微信", folded)
    return Normalized(folded, None if isinstance(positions, range) else tuple(positions))
