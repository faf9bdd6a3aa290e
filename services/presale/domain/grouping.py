"""Grouping the questions the bot could not answer (the insight loop's gaps), and reading the
agents' answers to them. Pure. How (`group`): every gap's canonical text (`textsim.canonical`)
becomes a TF-IDF vector of character 1–3-grams; identical texts are counted once with their
weight; then leader clustering in order of frequency: a text joins the cluster whose centroid
is most similar (cosine ≥ `threshold`) or starts one; a second pass merges clusters that
similar. Then the agents' replies: a cluster nobody answered joins the most similar answered one
(`ATTACH_THRESHOLD`), and clusters whose most frequent answers agree merge at a low cosine
(`ANSWER_THRESHOLD`). A group agents answer differently per item is split by item.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.presale.domain.textsim import TfIdf, Vector, canonical, compact, cosine, normalised

DEFAULT_THRESHOLD = 0.5
"""Cosine between a question and a group's centroid to join it (see docs: the figures)."""
ANSWER_THRESHOLD = 0.1
"""Two groups agents answer with the same reply merge from this cosine on (是正品 / 正品有保障)."""
ATTACH_THRESHOLD = 0.3
"""A group no agent has answered yet joins the most similar answered one from this cosine on."""
MIN_BUYERS = 3
"""A group must have been asked by this many distinct buyers to become a suggestion."""


@dataclass(frozen=True)
class Gap:
    """One buyer question the bot did not answer, with the agent's reply that followed."""

    gap_id: str
    buyer_id: str
    text: str
    """masked"""
    intent: str
    reason: str
    """low_confidence | no_kb_answer | no_kb | no_progress | with_agent"""
    item_id: str | None = None
    answer: str | None = None
    """the agent's reply, masked; None while nobody has answered"""

    @property
    def handoff(self) -> bool:
        """This question is what sent the conversation to a human."""
        return self.reason != "with_agent"


@dataclass(frozen=True)
class Group:
    gaps: tuple[Gap, ...]
    item_id: str | None = None
    """set when the group concerns one item"""

    @property
    def buyers(self) -> int:
        return len({g.buyer_id for g in self.gaps})

    @property
    def handoffs(self) -> int:
        return sum(g.handoff for g in self.gaps)


# -- grouping --------------------------------------------------------------------------------


def group(
    gaps: Sequence[Gap], threshold: float = DEFAULT_THRESHOLD, *, by_answers: bool = True
) -> list[Group]:
    """Cluster the gaps by meaning (see the module doc); deterministic for the same input.
    `by_answers=False` groups by the questions' text alone (the benchmark's baseline)."""
    by_text: dict[str, list[Gap]] = defaultdict(list)
    for g in gaps:
        if text := canonical(g.text):
            by_text[text].append(g)
    texts = sorted(by_text, key=lambda t: (-len(by_text[t]), t))
    model = TfIdf(texts)
    vectors = {t: model.vector(t) for t in texts}
    clusters: list[_Cluster] = []
    for t in texts:
        best: _Cluster | None = None
        best_sim = threshold
        for c in clusters:
            sim = cosine(vectors[t], c.centroid)
            if sim >= best_sim:
                best, best_sim = c, sim
        if best is None:
            clusters.append(_Cluster([t], dict(vectors[t]), len(by_text[t])))
        else:
            best.add(t, vectors[t], len(by_text[t]))
    merged = _merge(clusters, threshold)
    if by_answers:
        merged = _attach_unanswered(merged, by_text, min(threshold, ATTACH_THRESHOLD))
        merged = _merge_by_answer(merged, by_text, min(threshold, ANSWER_THRESHOLD))
    out: list[Group] = []
    for c in merged:
        members = tuple(g for t in c.texts for g in by_text[t])
        out.extend(_split_by_item(members))
    return out


@dataclass
class _Cluster:
    texts: list[str]
    total: dict[str, float]
    weight: int

    @property
    def centroid(self) -> Vector:
        return normalised(self.total)

    def add(self, text: str, v: Vector, weight: int) -> None:
        self.texts.append(text)
        self.weight += weight
        for k, x in v.items():
            self.total[k] = self.total.get(k, 0.0) + x * weight

    def absorb(self, other: _Cluster) -> None:
        self.texts.extend(other.texts)
        self.weight += other.weight
        for k, x in other.total.items():
            self.total[k] = self.total.get(k, 0.0) + x


def _merge(clusters: list[_Cluster], threshold: float) -> list[_Cluster]:
    kept: list[_Cluster] = []
    for c in sorted(clusters, key=lambda c: -c.weight):
        target = next((k for k in kept if cosine(k.centroid, c.centroid) >= threshold), None)
        if target is None:
            kept.append(c)
        else:
            target.absorb(c)
    return kept


def _merge_by_answer(
    clusters: list[_Cluster], by_text: Mapping[str, list[Gap]], threshold: float
) -> list[_Cluster]:
    """Agents' replies say what a question means: clusters whose answers agree (the same most
    frequent answer, given to most of each's answered questions) merge at a lower cosine."""

    def top(c: _Cluster) -> str | None:
        gaps = [g for t in c.texts for g in by_text[t]]
        keys = [answer_key(g.answer) for g in gaps if g.answer]
        best = top_answer(gaps)
        return best if best is not None and keys.count(best) * 2 > len(keys) else None

    kept: list[tuple[_Cluster, str | None]] = []
    for c in sorted(clusters, key=lambda c: -c.weight):
        answer = top(c)
        target = next(
            (k for k, a in kept
             if answer is not None and a == answer and cosine(k.centroid, c.centroid) >= threshold),
            None,
        )  # fmt: skip
        if target is None:
            kept.append((c, answer))
        else:
            target.absorb(c)
    return [c for c, _ in kept]


def _attach_unanswered(
    clusters: list[_Cluster], by_text: Mapping[str, list[Gap]], threshold: float
) -> list[_Cluster]:
    """A cluster nobody has answered yet joins the most similar answered one (cosine ≥
    `threshold`): its buyers asked that question, and only answers let a group be drafted."""
    answered = [c for c in clusters if any(g.answer for t in c.texts for g in by_text[t])]
    out = list(answered)
    for c in clusters:
        if c in answered:
            continue
        best, best_sim = None, threshold
        for a in answered:
            sim = cosine(a.centroid, c.centroid)
            if sim >= best_sim:
                best, best_sim = a, sim
        if best is None:
            out.append(c)
        else:
            best.absorb(c)
    return out


def _split_by_item(gaps: tuple[Gap, ...]) -> list[Group]:
    """One group, unless agents answer it differently for different items (口袋: the dress has
    them, the T-shirt not): then one group per item. Differently means: two items, each with
    `MIN_BUYERS` answers, whose most frequent answers differ and each hold a majority.
    A group most of whose questions (≥ 80 %) are about one item concerns that item."""
    per_item: dict[str | None, list[Gap]] = defaultdict(list)
    for g in gaps:
        per_item[g.item_id].append(g)
    majority = set()
    for item, gs in per_item.items():
        keys = [answer_key(g.answer) for g in gs if g.answer]
        top = top_answer(gs)
        if item is not None and len(keys) >= MIN_BUYERS and keys.count(top or "") * 2 > len(keys):
            majority.add(top)
    if len(majority) > 1:
        return [Group(tuple(gs), item) for item, gs in per_item.items() if item is not None]
    known = [g.item_id for g in gaps if g.item_id is not None]
    if known:
        item, n = Counter(known).most_common(1)[0]
        if n >= 0.8 * len(gaps):
            return [Group(gaps, item)]
    return [Group(gaps, None)]


# -- answers -------------------------------------------------------------------------------

_ADDRESS = re.compile(r"^(?:好的|您好|你好|嗯|在的)?(?:亲爱的|亲亲|亲)?[,，、\s!！~～]*")
_TAIL = re.compile(r"[\s,，。.!！~～]*(?:哦|呢|哈|呀|啦|哟|噢)?[\s,，。.!！~～]*$")


def clean_answer(text: str) -> str:
    """An agent's reply as a KB answer: without the address (亲，) and the closing particles,
    which the bot's tone adds back (`replies.render`)."""
    body = _ADDRESS.sub("", text.strip(), count=1)
    prev = None
    while prev != body:
        prev, body = body, _TAIL.sub("", body)
    return body or text.strip()


def answer_key(text: str) -> str:
    """Two agent replies say the same when their bodies are equal but for punctuation, width
    and spaces (numbers count: 8点 is not 9点)."""
    return compact(clean_answer(text))


def top_answer(gaps: Iterable[Gap]) -> str | None:
    keys = Counter(answer_key(g.answer) for g in gaps if g.answer)
    if not keys:
        return None
    return min(keys, key=lambda k: (-keys[k], k))


# -- drafting --------------------------------------------------------------------------------


def centroid(model: TfIdf, texts: Sequence[str]) -> Vector:
    total: dict[str, float] = {}
    for t in texts:
        for k, x in model.vector(t).items():
            total[k] = total.get(k, 0.0) + x
    return normalised(total)
