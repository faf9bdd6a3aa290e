"""Deciding what the bot does with one presale buyer message: answer, stay silent, or hand off.

Pure: takes what the classifier understood, the conversation's memory and the shop's KB, and
returns a `Decision` (`decisions`). The bot answers only when the classifier is confident
enough (the shop's `auto_reply_threshold`) AND the KB holds the answer; it never guesses (答非所问
is worse than a human's short wait). Everything else goes to a human. The answers themselves:
`product_answers` (size, spec, usage, stock) and `policy_answers` (FAQs, promotions, shipping,
couriers, invoices).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from services.presale.domain import replies
from services.presale.domain.decisions import (
    Decision,
    Handoff,
    HandoffReason,
    Memory,
    Priority,
    Reply,
    Silent,
)
from services.presale.domain.kb import KnowledgeBase, ReplyTone
from services.presale.domain.nlu import Understanding
from services.presale.domain.policy_answers import (
    courier,
    free_shipping,
    intent_faq,
    invoice,
    keyword_faq,
    promotions,
    shipping_time,
)
from services.presale.domain.product_answers import size_advice, spec, stock, usage
from services.presale.domain.textsim import compact, normalize
from shared.contracts import Entities

__all__ = ["Decision", "Handoff", "Memory", "Reply", "Silent", "closes_chat", "decide", "tone_of"]

DEFAULT_THRESHOLD = 0.6
"""Used for greetings while a shop has no KB yet."""
NO_PROGRESS_LIMIT = 3
"""The third bot reply in a row without progress goes to a human instead."""

ANSWERABLE = frozenset(
    {"greeting", "product_spec", "size_advice", "stock", "price_promotion", "free_shipping",
     "shipping_time", "courier", "invoice", "usage_help"}
)  # fmt: skip
PRODUCT_INTENTS = frozenset({"product_spec", "size_advice", "stock", "usage_help"})


def decide(
    u: Understanding,
    text: str,
    memory: Memory,
    kb: KnowledgeBase | None,
    now: datetime,
    *,
    vip: bool = False,
) -> Decision:
    """`memory` already holds this message's item and entities (`Memory.heard`)."""
    if u.stage != "presale":
        return Silent("other_stage", memory)
    angry = u.sentiment == "angry"
    priority: Priority = "urgent" if vip and angry else "high" if vip or angry else "normal"

    def hand_off(reason: HandoffReason) -> Handoff:
        return Handoff(reason, priority, replace(memory, bot_streak=0, awaiting=None))

    intent = u.intent
    threshold = kb.auto_reply_threshold if kb else DEFAULT_THRESHOLD
    confident = u.confidence >= threshold
    gave_size_info = bool(u.entities.height_cm or u.entities.weight_kg)
    if memory.awaiting == "size_info" and intent in ("other", "size_advice") and gave_size_info:
        intent, confident = "size_advice", True  # "165" after "how tall are you?" is clear
    if "human_agent" in (intent, *u.secondary_intents):
        return hand_off("human_agent")
    if u.sentiment in ("negative", "angry"):
        return hand_off("negative_sentiment")
    tone = kb.tone if kb else replies.DEFAULT_TONE

    def by_keywords(otherwise: HandoffReason) -> Decision:
        """A keyword FAQ answers what the classifier could not place (see `Faq.match`)."""
        faq = keyword_faq(kb, compact(text), memory.item_id) if kb else None
        if faq is None:
            return hand_off(otherwise)
        done = replace(memory, awaiting=None)
        return _counted(Reply(intent, replies.render(tone, faq), "auto_answer", done), memory,
                        hand_off)  # fmt: skip

    if not confident:
        return by_keywords("low_confidence")
    if intent == "acknowledgement":
        if closes_chat(text) and memory.last_bot_intent is not None:
            after = replace(memory, bot_streak=0, awaiting=None, last_bot_intent=None)
            return Reply("acknowledgement", replies.render(tone, tone.closing), "auto_answer",
                         after)  # fmt: skip
        return Silent("acknowledgement", memory)
    if intent == "greeting":
        greeting = Reply("greeting", replies.render(tone, tone.greeting), "auto_answer", memory)
        return _counted(greeting, memory, hand_off)
    if kb is None:
        return hand_off("no_kb")
    if intent not in ANSWERABLE:
        return by_keywords("no_kb_answer")
    answer = _answer(intent, text, memory, kb, now, u.entities)
    if answer is None:
        return by_keywords("no_kb_answer")
    extras = [
        more
        for extra in u.secondary_intents
        if extra in ANSWERABLE and extra not in (intent, "greeting")
        and (more := _answer(extra, text, memory, kb, now, u.entities)) is not None
        and more.kind == "auto_answer"
    ]  # fmt: skip
    if extras and answer.kind == "auto_answer":
        answer = replace(answer, text="；".join([answer.text, *(e.text for e in extras)]))
    answer = replace(answer, text=replies.render(tone, answer.text))
    return _counted(answer, memory, hand_off)


def _counted(
    answer: Reply, memory: Memory, hand_off: Callable[[HandoffReason], Handoff]
) -> Decision:
    """The bot repeating itself (same answer, or asking again) is a reply without progress."""
    stalled = answer.intent == memory.last_bot_intent and (
        answer.kind == "clarify" or answer.text == memory.last_answer
    )
    streak = memory.bot_streak + 1 if stalled else 1
    if streak >= NO_PROGRESS_LIMIT:
        return hand_off("no_progress")
    after = replace(answer.memory, bot_streak=streak, last_bot_intent=answer.intent,
                    last_answer=answer.text)  # fmt: skip
    return replace(answer, memory=after)


# -- answers by intent (bodies without the tone's address; None = the KB has no answer) ------


def _answer(
    intent: str, text: str, memory: Memory, kb: KnowledgeBase, now: datetime, ent: Entities
) -> Reply | None:
    norm = normalize(text)
    faq = intent_faq(kb, intent, norm, memory.item_id)
    product = kb.product(memory.item_id) or (kb.products[0] if len(kb.products) == 1 else None)
    if intent in PRODUCT_INTENTS and product is None:
        if faq is not None:
            return Reply(intent, faq, "auto_answer", replace(memory, awaiting=None))
        if memory.item_id is not None:
            return None  # an item the KB does not know
        return Reply(intent, replies.ASK_ITEM, "clarify", replace(memory, awaiting="item"))
    done = replace(memory, awaiting=None)
    body: str | None = None
    if intent == "size_advice":
        assert product is not None
        return size_advice(product, memory, norm)
    if intent == "product_spec":
        assert product is not None
        body = faq or spec(product, norm)
    elif intent == "usage_help":
        assert product is not None
        body = faq or usage(product)
    elif intent == "stock":
        assert product is not None
        body = stock(product, norm, ent) or faq
    elif intent == "price_promotion":
        body = faq or promotions(kb, now)
    elif intent == "free_shipping":
        body = faq or free_shipping(kb, norm)
    elif intent == "shipping_time":
        body = faq or shipping_time(kb)
    elif intent == "courier":
        body = faq or courier(kb, norm)
    elif intent == "invoice":
        body = faq or invoice(kb, norm)
    return None if body is None else Reply(intent, body, "auto_answer", done)


_CLOSING = re.compile(r"谢|再见|拜拜|bye|88|没问题了|没有了|那我拍了|去拍|拍了|下单了|明白了")


def closes_chat(text: str) -> bool:
    """好的/嗯 just acknowledge; 谢谢/再见/那我拍了 end the chat and deserve a goodbye."""
    return bool(_CLOSING.search(normalize(text)))


def tone_of(kb: KnowledgeBase | None) -> ReplyTone:
    return kb.tone if kb else replies.DEFAULT_TONE
