"""From questions the bot could not answer to KB suggestions: group, rank, draft. Pure.

1. **group** (`grouping`) — every gap's canonical text (`textsim.canonical`) becomes a TF-IDF vector of
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
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from services.presale.domain.grouping import (
    DEFAULT_THRESHOLD,
    MIN_BUYERS,
    Gap,
    Group,
    answer_key,
    centroid,
    clean_answer,
    group,
    top_answer,
)
from services.presale.domain.textsim import TfIdf, canonical, cosine

__all__ = [
    "DEFAULT_THRESHOLD", "MIN_BUYERS", "Draft", "Gap", "Group", "Suggestion", "accepted_faq",
    "answer_key", "clean_answer", "draft", "faq_entry", "group", "is_rejected", "keywords",
    "suggest",
]  # fmt: skip

MIN_ANSWER_FOCUS = 0.5
"""Of all the times agents gave the drafted answer, at least this share must be in the group:
a reply given to anything (稍等，我帮您看一下) is no answer to this question."""
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


def draft(
    g: Group, others: Sequence[Gap], background: Sequence[str] = (), common: Sequence[str] = ()
) -> Draft | None:
    """The suggested entry for a group, or None when agents do not answer it consistently.
    `others`: every other gap; the keywords occur in none of those agents answered otherwise
    (unanswered ones tell nothing about their meaning, and those answered alike mean the same),
    nor in `background` (words every question may use, e.g. the shop's product names), and
    are rare in `common` (buyers' messages in general)."""
    answered = [x for x in g.gaps if x.answer]
    top = top_answer(answered)
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
    mine = centroid(model, variants)
    return any(cosine(mine, centroid(model, r)) >= threshold for r in rejected if r)


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
