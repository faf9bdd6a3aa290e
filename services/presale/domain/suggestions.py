"""From questions the bot could not answer to KB suggestions: group, rank, draft. Pure.

1. **group** — every gap's canonical text (`textsim.canonical`) becomes a TF-IDF vector of
   character 1–3-grams; identical texts are counted once with their weight; then leader
   clustering in order of frequency: a text joins the cluster whose centroid is most similar
   (cosine ≥ `threshold`) or starts one; a second pass merges clusters that similar. Then the
   agents' replies: a cluster nobody answered joins the most similar answered one
   (`ATTACH_THRESHOLD`), and clusters whose most frequent answers agree merge at a low cosine
   (`ANSWER_THRESHOLD`). A group agents answer differently per item is split by item.
2. **rank** — by distinct buyers who asked, then by the hand-offs the questions caused.
3. **draft** — a KB FAQ: the question variants, the item (when ≥ 80 % of the questions are on
   one), the answer agents gave most often (masked, without the address), and the keywords the
   bot will match: a greedy cover of the questions by character n-grams that occur in almost
   no question agents answered otherwise, in no product name, and rarely in buyers' language.

Groups asked by too few buyers, whose answers disagree or are given to anything, that the KB
already answers, or like a rejected one are left out by `suggest` (the KB check is a plain
function passed in). docs/insights.md has the figures behind the thresholds.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from services.presale.domain.textsim import TfIdf, Vector, canonical, compact, cosine, normalised

DEFAULT_THRESHOLD = 0.5
"""Cosine between a question and a group's centroid to join it (see docs: the figures)."""
ANSWER_THRESHOLD = 0.1
"""Two groups agents answer with the same reply merge from this cosine on (是正品 / 正品有保障)."""
ATTACH_THRESHOLD = 0.3
"""A group no agent has answered yet joins the most similar answered one from this cosine on."""
MIN_ANSWER_FOCUS = 0.5
"""Of all the times agents gave the drafted answer, at least this share must be in the group:
a reply given to anything (稍等，我帮您看一下) is no answer to this question."""
MIN_BUYERS = 3
"""A group must have been asked by this many distinct buyers to become a suggestion."""
MIN_ANSWER_SHARE = 0.5
"""The most frequent agent answer must be at least this share of the group's answers."""
MAX_KEYWORDS = 6
MAX_COMMON = 0.005
"""A keyword may occur in at most this share of buyers' messages in general (`common`): 多久,
有没有 and 什么时候 say nothing about which question it is."""
MAX_FOREIGN = 0.15
"""A keyword may occur in questions agents answered otherwise at most this often, relative to
the group's questions it occurs in (replies linked to the wrong question of a burst)."""
MAX_EXAMPLES = 8


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


@dataclass(frozen=True)
class Draft:
    """A suggested KB entry for one group, ready to review."""

    key: str
    """stable identity of the group: hash of its item and most asked canonical question"""
    item_id: str | None
    intent: str | None
    """the intent most questions were classified as (for the FAQ: None = any)"""
    answer: str
    answer_share: float
    keywords: tuple[str, ...]
    examples: tuple[tuple[str, int], ...]
    """question variants as buyers wrote them (masked), with how often each was asked"""
    variants: tuple[str, ...]
    """the group's canonical questions, most asked first (used to recognise it again)"""
    asked: int
    buyers: int
    handoffs: int
    gap_ids: tuple[str, ...] = field(default=(), repr=False)

    @property
    def rank_key(self) -> tuple[int, int, int, str]:
        return (-self.buyers, -self.handoffs, -self.asked, self.key)


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
        best = _top_answer(gaps)
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
        top = _top_answer(gs)
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


def _top_answer(gaps: Iterable[Gap]) -> str | None:
    keys = Counter(answer_key(g.answer) for g in gaps if g.answer)
    if not keys:
        return None
    return min(keys, key=lambda k: (-keys[k], k))


# -- drafting --------------------------------------------------------------------------------


def draft(
    g: Group, others: Sequence[Gap], background: Sequence[str] = (), common: Sequence[str] = ()
) -> Draft | None:
    """The suggested entry for a group, or None when agents do not answer it consistently.
    `others`: every other gap; the keywords occur in none of those agents answered otherwise
    (unanswered ones tell nothing about their meaning, and those answered alike mean the same),
    nor in `background` (words every question may use, e.g. the shop's product names), and
    are rare in `common` (buyers' messages in general)."""
    answered = [x for x in g.gaps if x.answer]
    top = _top_answer(answered)
    if top is None:
        return None
    share = sum(answer_key(x.answer or "") == top for x in answered) / len(answered)
    if share < MIN_ANSWER_SHARE:
        return None
    bodies = Counter(clean_answer(x.answer or "") for x in answered
                     if answer_key(x.answer or "") == top)  # fmt: skip
    answer = min(bodies, key=lambda b: (-bodies[b], b))
    canon = Counter(canonical(x.text) for x in g.gaps)
    variants = tuple(sorted(canon, key=lambda t: (-canon[t], t)))
    raw = Counter(x.text for x in g.gaps)
    examples = tuple(sorted(raw.items(), key=lambda kv: (-kv[1], kv[0])))[:MAX_EXAMPLES]
    intents = Counter(x.intent for x in g.gaps)
    intent, n = min(intents.items(), key=lambda kv: (-kv[1], kv[0]))
    return Draft(
        key=group_key(g.item_id, variants[0]),
        item_id=g.item_id,
        intent=intent if n >= 0.8 * len(g.gaps) else None,
        answer=answer,
        answer_share=round(share, 3),
        keywords=keywords(
            list(canon.elements()),
            [canonical(o.text) for o in others if o.answer and answer_key(o.answer) != top]
            + [canonical(b) for b in background],
            common,
        ),
        examples=examples,
        variants=variants,
        asked=len(g.gaps),
        buyers=g.buyers,
        handoffs=g.handoffs,
        gap_ids=tuple(x.gap_id for x in g.gaps),
    )


def group_key(item_id: str | None, top_variant: str) -> str:
    return hashlib.sha256(f"{item_id or '*'}\x1f{top_variant}".encode()).hexdigest()[:16]


def keywords(
    questions: Sequence[str], others: Sequence[str], common: Sequence[str] = ()
) -> tuple[str, ...]:
    """Greedy set cover of the group's distinct questions by character n-grams (2–4) that
    (almost: `MAX_FOREIGN`) never occur in `others`, the questions agents answered otherwise,
    and are rare (`MAX_COMMON`) in `common`, canonical buyer messages in general:
    most questions covered first (weighted by how often each was asked), then the shorter,
    more general n-gram, then the one of rarer characters (实体 rather than 有实); at most
    `MAX_KEYWORDS`."""
    asked = Counter(q for q in questions if q)
    candidates: dict[str, set[str]] = defaultdict(set)
    for q in asked:
        for n in (2, 3, 4):
            for j in range(len(q) - n + 1):
                candidates[q[j : j + n]].add(q)
    foreign = Counter(o for o in others if o)
    seen = Counter(ch for text in (*asked, *foreign, *common) for ch in set(text))
    rarity = {g: sum(1 / seen[ch] for ch in g) for g in candidates}
    too_common = MAX_COMMON * len(common)
    clean = {
        gram: covered
        for gram, covered in candidates.items()
        if not gram.isdigit()
        and not (common and sum(gram in c for c in common) > too_common)
        and sum(n for o, n in foreign.items() if gram in o)
        <= MAX_FOREIGN * sum(asked[q] for q in covered)
    }
    chosen: list[str] = []
    left = set(asked)
    while left and len(chosen) < MAX_KEYWORDS:
        gram, covered = max(
            clean.items(),
            key=lambda kv: (sum(asked[q] for q in kv[1] & left), -len(kv[0]), rarity[kv[0]], kv[0]),
            default=("", set()),
        )
        if not covered & left:
            break
        chosen.append(gram)
        left -= covered
    return tuple(chosen)


# -- the whole job -------------------------------------------------------------------------


def suggest(
    gaps: Sequence[Gap],
    *,
    answered_by_kb: Callable[[Draft], bool],
    rejected: Sequence[Sequence[str]] = (),
    threshold: float = DEFAULT_THRESHOLD,
    min_buyers: int = MIN_BUYERS,
    limit: int = 50,
    by_answers: bool = True,
    background: Sequence[str] = (),
    common: Sequence[str] = (),
) -> list[Draft]:
    """Ranked drafts for the gaps: groups asked by at least `min_buyers` buyers, answered
    consistently by agents, not already answered by the KB (`answered_by_kb`), and not like a
    rejected group (`rejected`: each rejected group's canonical variants). `background`: texts
    no keyword may come from (the shop's product titles and kinds: 连衣 is no keyword);
    `common`: canonical buyer messages in general, where a keyword must be rare."""
    groups = group(gaps, threshold, by_answers=by_answers)
    given = Counter(answer_key(g.answer) for g in gaps if g.answer)
    vague = _vague_answers(groups, given)
    telling = [x for x in gaps if x.answer and answer_key(x.answer) not in vague]
    drafts: list[Draft] = []
    for grp in groups:
        if grp.buyers < min_buyers:
            continue
        mine = {x.gap_id for x in grp.gaps}
        d = draft(grp, [x for x in telling if x.gap_id not in mine], background, common)
        if d is None or not d.keywords:
            continue
        in_group = sum(answer_key(x.answer) == answer_key(d.answer) for x in grp.gaps if x.answer)
        if in_group < MIN_ANSWER_FOCUS * given[answer_key(d.answer)]:
            continue  # agents say this to everything: not this question's answer
        if is_rejected(d.variants, rejected, threshold) or answered_by_kb(d):
            continue
        drafts.append(d)
    return sorted(drafts, key=lambda d: d.rank_key)[:limit]


def _vague_answers(groups: Sequence[Group], given: Counter[str]) -> set[str]:
    """Replies agents give to anything (稍等，我帮您看一下): no group holds most of them. The
    questions they followed say nothing against a keyword, like unanswered ones."""
    most: Counter[str] = Counter()
    for grp in groups:
        here = Counter(answer_key(x.answer) for x in grp.gaps if x.answer)
        for key, n in here.items():
            most[key] = max(most[key], n)
    return {key for key, n in given.items() if n >= MIN_BUYERS and most[key] < MIN_ANSWER_FOCUS * n}


def is_rejected(
    variants: Sequence[str], rejected: Sequence[Sequence[str]], threshold: float = DEFAULT_THRESHOLD
) -> bool:
    """A group is the one a reviewer rejected when their questions' centroids are as alike as
    two questions that clustering would put together."""
    if not rejected or not variants:
        return False
    model = TfIdf([*variants, *(v for r in rejected for v in r)])
    mine = _centroid(model, variants)
    return any(cosine(mine, _centroid(model, r)) >= threshold for r in rejected if r)


def _centroid(model: TfIdf, texts: Sequence[str]) -> Vector:
    total: dict[str, float] = {}
    for t in texts:
        for k, x in model.vector(t).items():
            total[k] = total.get(k, 0.0) + x
    return normalised(total)


def faq_entry(d: Draft, faq_id: str, answer: str | None = None) -> Mapping[str, object]:
    """The KB FAQ an accepted draft becomes (matched by keywords: see `answers.decide`)."""
    return {
        "faq_id": faq_id,
        "intent": None,
        "keywords": list(d.keywords),
        "answer": answer or d.answer,
        "item_id": d.item_id,
        "match": "keywords",
    }


SuggestionStatus = Literal["pending", "accepted", "rejected"]


@dataclass(frozen=True)
class Suggestion:
    """A draft as kept for review (`store.suggestions`): pending until a reviewer accepts it
    (a new KB version) or rejects it (its `variants` keep the group from coming back)."""

    suggestion_id: str
    shop_id: str
    status: SuggestionStatus
    rank: int
    draft: Draft
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    kb_version: int | None = None
    """the KB version an acceptance created"""


def accepted_faq(
    s: Suggestion, answer: str | None, keywords: Sequence[str] | None
) -> Mapping[str, object]:
    """The FAQ an accepted suggestion adds to the KB (`faq_id`: suggested-<id>), with the
    reviewer's answer and keywords when given."""
    d = replace(s.draft, keywords=tuple(keywords or s.draft.keywords))
    return faq_entry(d, f"suggested-{s.suggestion_id[:12]}", answer)
