"""How alike two buyer questions are: canonical text, character n-grams, TF-IDF, cosine. Pure.

Buyers write the same question in many ways: particles (亲/哦/呢/吗), emoji, typos (神马, 木有),
traditional characters, spaces and punctuation. `canonical` removes what carries no meaning;
what is left is compared by its character 1–3-grams (Chinese has no spaces, and a word is
mostly one or two characters, so character n-grams are the usual bag-of-words for it),
weighted by TF-IDF so the characters every question shares (这/个/有/吗) count little.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from shared.text import fold

Vector = dict[str, float]

_TRAD = str.maketrans(
    "顏質碼麼嗎運費發貨還點優彈縮級紅綠藍長寬鬆準開專順豐遞幾條褲衛們這個樣庫現預贈禮減滿價錢區內臺灣門時間機燙曬幹乾體謝見貼號"
    "問題說買賣換請給親單訂東對為會關過裡塊邊線鏈壞裝盒實報驗檢孕婦兜袋險",
    "颜质码么吗运费发货还点优弹缩级红绿蓝长宽松准开专顺丰递几条裤卫们这个样库现预赠礼减满价钱区内台湾门时间机烫晒干干体谢见贴号"
    "问题说买卖换请给亲单订东对为会关过里块边线链坏装盒实报验检孕妇兜袋险",
)
_TYPOS = (("神马", "什么"), ("啥", "什么"), ("咋", "怎么"), ("可已", "可以"), ("木有", "没有"),
          ("在麻", "在吗"), ("发或", "发货"), ("xiexie", "谢谢"), ("好滴", "好的"))  # fmt: skip
_EMOTICON = re.compile(r"\[[^\[\]]{1,6}\]")
_NOISE = re.compile(r"[^\w]|_", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_EDGE_PARTICLES = "亲哦呢哈呀啊嘛啦吗吧么呐噢喔滴"
_LEADING = ("请问一下", "请问", "问一下", "你好", "您好", "在吗", "老板", "客服", "亲")


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, traditional to simplified for the words we match."""
    return fold(text).translate(_TRAD)


def compact(text: str) -> str:
    """`normalize`, then without emoji, punctuation, spaces and common typos (神马 → 什么)."""
    t = _EMOTICON.sub("", normalize(text))
    for typo, right in _TYPOS:
        t = t.replace(typo, right)
    return _NOISE.sub("", t)


def canonical(text: str) -> str:
    """The question without what does not change its meaning: `compact`, numbers as `0`
    (165/110斤 asks what 170/120斤 asks), and without the greetings and particles at its ends
    (请问…亲, …吗/呢/哦)."""
    t = _NUMBER.sub("0", compact(text))
    changed = True
    while changed and t:
        changed = False
        for lead in _LEADING:
            if t.startswith(lead) and len(t) > len(lead):
                t, changed = t[len(lead) :], True
        stripped = t.rstrip(_EDGE_PARTICLES)
        if stripped and stripped != t:
            t, changed = stripped, True
    return t


def ngrams(text: str, sizes: Sequence[int] = (1, 2, 3)) -> Counter[str]:
    """Character n-grams of the canonical text (with ^/$ so starts and ends count)."""
    padded = f"^{text}$"
    grams: Counter[str] = Counter()
    for n in sizes:
        for i in range(len(padded) - n + 1):
            gram = padded[i : i + n]
            if gram not in ("^", "$"):
                grams[gram] += 1
    return grams


class TfIdf:
    """TF-IDF over a corpus of canonical texts: sublinear tf, smoothed idf, L2-normalised."""

    def __init__(self, corpus: Iterable[str], sizes: Sequence[int] = (1, 2, 3)) -> None:
        self.sizes = tuple(sizes)
        df: Counter[str] = Counter()
        n = 0
        for text in corpus:
            n += 1
            df.update(set(ngrams(text, self.sizes)))
        self.idf = {g: math.log((1 + n) / (1 + c)) + 1 for g, c in df.items()}
        self._unseen = math.log(1 + n) + 1

    def vector(self, text: str) -> Vector:
        weights = {
            g: (1 + math.log(tf)) * self.idf.get(g, self._unseen)
            for g, tf in ngrams(text, self.sizes).items()
        }
        return normalised(weights)


def normalised(v: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(x * x for x in v.values()))
    return {k: x / norm for k, x in v.items()} if norm else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Dot product of two L2-normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(k, 0.0) for k, x in a.items())
