"""Does the KB already answer a suggested group? Pure: the bot's own decision, replayed.

A draft is left out when the bot, with the shop's current KB, auto-answers most of the
group's example questions (the KB learnt it since, or a shop owner wrote it), or when the
drafted answer is one the KB already holds (a FAQ or a product's spec says the same): a
suggestion must never duplicate an existing answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.presale.domain.answers import decide
from services.presale.domain.decisions import Decision, Handoff, Memory, Reply
from services.presale.domain.kb import KnowledgeBase
from services.presale.domain.nlu import Understanding, understand
from services.presale.domain.suggestions import Draft, Gap, answer_key


def kb_answers(kb: KnowledgeBase, draft: Draft, now: datetime) -> bool:
    known = {answer_key(f.answer) for f in kb.faqs}
    for p in kb.products:
        known |= {answer_key(v) for v in p.specs.values()}
    if answer_key(draft.answer) in known:
        return True
    asked = answered = 0
    for text, count in draft.examples:
        u = understand(text, [])
        memory = Memory().heard(draft.item_id, u.entities)
        d = decide(u, text, memory, kb, now)
        asked += count
        answered += count if isinstance(d, Reply) and d.kind == "auto_answer" else 0
    return asked > 0 and answered * 2 > asked


def still_open(kb: KnowledgeBase | None, gaps: Sequence[Gap], now: datetime) -> list[Gap]:
    """The gaps the bot would still not answer with this KB, asked on their own on their item.

    Questions asked while an agent had the conversation never reached the bot: only those it
    could not have answered are gaps. And the KB may have learnt an answer since a question
    was handed off."""
    if kb is None:
        return list(gaps)
    out = []
    for g in gaps:
        u = understand(g.text, [])
        d = decide(u, g.text, Memory().heard(g.item_id, u.entities), kb, now)
        if not (isinstance(d, Reply) and d.kind == "auto_answer"):
            out.append(g)
    return out


GAP_REASONS = frozenset({"low_confidence", "no_kb", "no_kb_answer", "no_progress"})
"""Hand-offs that show the bot lacked an answer (not: the buyer asked for a human, was upset)."""
NOT_QUESTIONS = frozenset({"greeting", "acknowledgement", "human_agent"})


def gap_reason(u: Understanding, decision: Decision | None) -> str | None:
    """Why this buyer message is a gap, or None: a presale question the bot handed off for
    want of an answer, or one asked while a human had the conversation (`with_agent`)."""
    if u.stage != "presale" or u.intent in NOT_QUESTIONS:
        return None
    if decision is None:
        return "with_agent"
    if isinstance(decision, Handoff) and decision.reason in GAP_REASONS:
        return decision.reason
    return None


def product_words(kb: KnowledgeBase | None) -> list[str]:
    """Texts no suggested keyword may come from: what every question about a product says
    (its title and kind, 连衣裙), so a keyword never matches a product's name alone."""
    if kb is None:
        return []
    return [text for p in kb.products for text in (p.title, p.kind)]
