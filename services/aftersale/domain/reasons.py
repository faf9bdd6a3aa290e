"""Refund reason texts as the platform really writes them, matched to a shop's reason groups.

The platform's reason list differs by category, app version and era (七天无理由退换货,
7天无理由退换货, 多拍/拍错/不想要, 我不想要了, …). A rule set lists reasons once; matching goes
through `normalize_reason` (full/half width, 7/七, 退换货/退货, punctuation and brackets, 我/的/了
particles) so variants land on the same key. A text no group lists, even normalised, is
classified by similarity to the texts the groups do list (character bigrams plus platform cue
words); below `MIN_CONFIDENCE` the reason is *unrecognised*, and the policy escalates instead of
falling through to a rule that was written for something else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.text import fold

MIN_CONFIDENCE = 0.5

_DROP = re.compile(r"[\s\W_]+")  # punctuation, brackets, slashes, spaces (Unicode-aware)
_PARTICLES = re.compile(r"[我的了啦呢吧哦]")
_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("7天", "七天"),
    ("退换货", "退货"),
    ("退换", "退货"),
    ("无理由退款", "无理由退货"),
    ("尺码", "尺寸"),
    ("大小", "尺寸"),
    ("快递", "物流"),
    ("错发", "发错"),
    ("漏发", "少件"),
    ("少发", "少件"),
    ("不想要", "不要"),
    ("不需要", "不要"),
)
# Cue words: a variant that shares no characters with a listed text still says what it means.
_CUES: dict[str, tuple[str, ...]] = {
    "no_reason": ("无理由", "不要", "拍错", "多拍", "拍多", "不喜欢", "不合适", "效果不好", "买多"),
    "not_as_described": ("描述不符", "与描述", "不符", "色差", "材质", "图案", "款式"),
    "quality": (
        "质量",
        "破损",
        "做工",
        "污渍",
        "瑕疵",
        "坏",
        "开线",
        "掉色",
        "异味",
        "变质",
        "发霉",
    ),
    "missing_wrong": ("少件", "发错", "配件", "少了", "不对", "错货"),
    "serious": ("假冒", "假货", "空包", "仿冒", "非正品"),
    "logistics": ("未按约定", "发货", "未送到", "跟踪", "物流", "没收到", "未收到", "签收"),
}


def normalize_reason(text: str) -> str:
    """The matching key of a reason text: 七天无理由退换货 and 7天无理由退货 give the same key."""
    key = fold(text)
    key = _DROP.sub("", key)
    for variant, canonical in _SYNONYMS:
        key = key.replace(variant, canonical)
    stripped = _PARTICLES.sub("", key)
    return stripped or key


def _features(key: str) -> frozenset[str]:
    bigrams = {key[i : i + 2] for i in range(len(key) - 1)} or {key}
    cues = {f"CUE:{name}" for name, words in _CUES.items() if any(w in key for w in words)}
    return frozenset(bigrams | cues)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient; a shared cue word counts three times as much as a shared bigram."""

    def weight(fs: frozenset[str]) -> float:
        return sum(3.0 if f.startswith("CUE:") else 1.0 for f in fs)

    total = weight(a) + weight(b)
    return 2 * weight(a & b) / total if total else 0.0


@dataclass(frozen=True)
class ReasonMatch:
    """The groups a reason belongs to; `exact` when a listed text matched after normalising."""

    groups: frozenset[str]
    confidence: float
    exact: bool
    nearest: str | None = None

    @property
    def recognised(self) -> bool:
        return bool(self.groups)


@dataclass
class ReasonIndex:
    """A rule set's reason groups, indexed by normalised key; classifications are memoised."""

    groups: Mapping[str, frozenset[str]]
    min_confidence: float = MIN_CONFIDENCE
    _by_key: dict[str, set[str]] = field(init=False, repr=False)
    _known: list[tuple[str, str, frozenset[str]]] = field(init=False, repr=False)
    _cache: dict[str, ReasonMatch] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {}
        self._known = []
        for group, texts in self.groups.items():
            for text in texts:
                key = normalize_reason(text)
                self._by_key.setdefault(key, set()).add(group)
                self._known.append((group, text, _features(key)))
        self._cache = {}

    def match(self, reason: str) -> ReasonMatch:
        found = self._cache.get(reason)
        if found is None:
            found = self._cache[reason] = self._classify(reason)
            if len(self._cache) > 4096:  # reason texts are few; bound it anyway
                self._cache.clear()
        return found

    def _classify(self, reason: str) -> ReasonMatch:
        key = normalize_reason(reason)
        exact = self._by_key.get(key)
        if exact:
            return ReasonMatch(frozenset(exact), 1.0, True)
        feats = _features(key)
        best: dict[str, tuple[float, str]] = {}
        for group, text, known in self._known:
            score = _similarity(feats, known)
            if score > best.get(group, (0.0, ""))[0]:
                best[group] = (score, text)
        if not best:
            return ReasonMatch(frozenset(), 0.0, False)
        ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)
        top_group, (top, nearest) = ranked[0]
        runner_up = ranked[1][1][0] if len(ranked) > 1 else 0.0
        # Two groups about as close: the text is ambiguous, so the confidence is low.
        confidence = round(top * min(1.0, 0.5 + (top - runner_up) * 2), 3)
        if confidence < self.min_confidence:
            return ReasonMatch(frozenset(), confidence, False, nearest)
        return ReasonMatch(frozenset({top_group}), confidence, False, nearest)

    def in_group(self, reason: str, group: str) -> bool:
        return group in self.match(reason).groups

    def matches_any(self, reason: str, texts: list[str] | tuple[str, ...]) -> bool:
        """`reason_in`: the reason equals one of the texts once both are normalised."""
        key = normalize_reason(reason)
        return any(normalize_reason(t) == key for t in texts)
