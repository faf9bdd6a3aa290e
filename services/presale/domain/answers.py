"""Deciding what the bot does with one presale buyer message: answer, stay silent, or hand off.

Pure: takes what the classifier understood, the conversation's memory and the shop's KB, and
returns a `Decision`. The bot answers only when the classifier is confident enough (the shop's
`auto_reply_threshold`) AND the KB holds the answer; it never guesses (答非所问 is worse than a
human's short wait). Everything else goes to a human.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from services.presale.domain import replies
from services.presale.domain.kb import KnowledgeBase, Product, ReplyTone, Sku
from services.presale.domain.nlu import Understanding
from services.presale.domain.sizing import advise, kg_to_jin
from services.presale.domain.textsim import compact, normalize
from shared.contracts import Entities

HandoffReason = Literal[
    "human_agent",
    "negative_sentiment",
    "low_confidence",
    "no_kb",
    "no_kb_answer",
    "no_progress",
    "abuse",
    "threat",
]
Priority = Literal["low", "normal", "high", "urgent"]
DEFAULT_THRESHOLD = 0.6
"""Used for greetings while a shop has no KB yet."""
NO_PROGRESS_LIMIT = 3
"""The third bot reply in a row without progress goes to a human instead."""

ANSWERABLE = frozenset(
    {"greeting", "product_spec", "size_advice", "stock", "price_promotion", "free_shipping",
     "shipping_time", "courier", "invoice", "usage_help"}
)  # fmt: skip
PRODUCT_INTENTS = frozenset({"product_spec", "size_advice", "stock", "usage_help"})


@dataclass(frozen=True)
class Memory:
    """What presale remembers about a conversation between messages."""

    item_id: str | None = None
    height_cm: int | None = None
    weight_kg: float | None = None
    last_bot_intent: str | None = None
    bot_streak: int = 0
    awaiting: Literal["size_info", "item"] | None = None
    last_answer: str | None = None

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> Memory:
        """From its stored form; keys this version does not know are ignored."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def stored(self) -> dict[str, Any]:
        """Its stored form (every field is a scalar: a shallow copy is `asdict` without the
        recursive deep copy, which cost ~1 % of presale's CPU per message)."""
        return dict(self.__dict__)

    def heard(self, item_id: str | None, entities: Entities) -> Memory:
        """Fold in what this message tells: the item page, height and weight."""
        return replace(
            self,
            item_id=item_id or self.item_id,
            height_cm=entities.height_cm or self.height_cm,
            weight_kg=entities.weight_kg or self.weight_kg,
        )


@dataclass(frozen=True)
class Reply:
    intent: str
    text: str
    kind: Literal["auto_answer", "clarify"]
    memory: Memory


@dataclass(frozen=True)
class Handoff:
    reason: HandoffReason
    priority: Priority
    memory: Memory


@dataclass(frozen=True)
class Silent:
    why: Literal["other_stage", "acknowledgement"]
    memory: Memory


Decision = Reply | Handoff | Silent


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
        faq = _keyword_faq(kb, compact(text), memory.item_id) if kb else None
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
    faq = _faq(kb, intent, norm, memory.item_id)
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
        return _size_advice(product, memory, norm)
    if intent == "product_spec":
        assert product is not None
        body = faq or _spec(product, norm)
    elif intent == "usage_help":
        assert product is not None
        body = faq or _usage(product)
    elif intent == "stock":
        assert product is not None
        body = _stock(product, norm, ent) or faq
    elif intent == "price_promotion":
        body = faq or _promotions(kb, now)
    elif intent == "free_shipping":
        body = faq or _free_shipping(kb, norm)
    elif intent == "shipping_time":
        body = faq or _shipping_time(kb)
    elif intent == "courier":
        body = faq or _courier(kb, norm)
    elif intent == "invoice":
        body = faq or _invoice(kb, norm)
    return None if body is None else Reply(intent, body, "auto_answer", done)


def _faq(kb: KnowledgeBase, intent: str, norm: str, item_id: str | None) -> str | None:
    for faq in kb.faqs:
        if faq.intent not in (None, intent) or faq.item_id not in (None, item_id):
            continue
        if any(normalize(k) in norm for k in faq.keywords):
            return faq.answer
    return None


def _keyword_faq(kb: KnowledgeBase, text: str, item_id: str | None) -> str | None:
    """`text` compacted (`textsim.compact`): keywords match across spaces, emoji and typos."""
    for faq in kb.faqs:
        if faq.match != "keywords" or faq.item_id not in (None, item_id):
            continue
        if any((k := compact(kw)) and k in text for kw in faq.keywords):
            return faq.answer
    return None


def _size_advice(product: Product, memory: Memory, norm: str) -> Reply | None:
    if not product.size_chart:
        return None
    h, kg = memory.height_cm, memory.weight_kg
    if h is None or kg is None:
        ask = replies.ASK_BOTH if h is None and kg is None else (
            replies.ASK_HEIGHT if h is None else replies.ASK_WEIGHT)  # fmt: skip
        fit = f"这款{product.fit}，" if product.fit and h is None and kg is None else ""
        return Reply("size_advice", fit + ask, "clarify", replace(memory, awaiting="size_info"))
    jin = kg_to_jin(kg)
    advice = advise(product.size_chart, h, jin)
    if advice is None:
        return None  # outside the chart: a human measures it up
    who = f"身高{h}cm、体重{jin}斤"
    if advice.between:
        small, large = advice.sizes[0], advice.sizes[-1]
        lean = f"，这款{product.fit}" if product.fit else ""
        body = f"{who}在{small}码和{large}码之间{lean}，喜欢合身选{small}码，喜欢宽松选{large}码"
    else:
        body = f"{who}建议拿{advice.sizes[0]}码"
        if product.fit:
            body += f"（这款{product.fit}）"
    if advice.height_suggests and not set(advice.height_suggests) & set(advice.sizes):
        body += f"；按身高会是{'/'.join(advice.height_suggests)}码，尺码按体重选更合身"
    return Reply("size_advice", body, "auto_answer", replace(memory, awaiting=None))


SPEC_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("起球", ("起球", "起毛")),
    ("缩水", ("缩水", "会缩", "缩不缩")),
    ("掉色", ("掉色", "褪色", "染色", "串色")),
    ("色差", ("色差", "实物", "和图片")),
    ("弹力", ("弹力", "弹性", "有弹", "弹吗")),
    ("厚薄", ("厚", "薄")),
    ("透", ("透",)),
    ("版型", ("版型", "偏大", "偏小", "修身", "宽松", "显瘦")),
    ("面料", ("面料", "材质", "什么料", "料子", "成分", "纯棉", "含棉", "真丝", "透气", "棉的")),
)  # fmt: skip
_GENERIC_MATERIAL = ("面料", "料子")


def _spec(product: Product, norm: str) -> str | None:
    asked = [
        topic
        for topic, words in SPEC_TOPICS
        if any(w in (norm.replace("透气", "") if topic == "透" else norm) for w in words)
    ]
    if "面料" in asked and len(asked) > 1:
        specific = [w for w in SPEC_TOPICS[-1][1] if w not in _GENERIC_MATERIAL]
        if not any(w in norm for w in specific):
            asked.remove("面料")  # "面料厚不厚" asks about thickness, not the material
    if not asked:
        return None  # no spec topic recognised: a generic blurb would be 答非所问
    answers = []
    for topic in asked:
        if topic == "面料":
            answers.append(product.specs.get("面料") or f"这款{product.kind}是{product.material}")
        elif topic == "版型" and "版型" not in product.specs and product.fit:
            answers.append(f"这款{product.fit}")
        elif topic in product.specs:
            answers.append(product.specs[topic])
        else:
            return None  # asked something the KB does not say: no guessing
    return "；".join(answers)


def _usage(product: Product) -> str | None:
    notes = [*product.usage_notes]
    if product.care and not notes:
        notes.append(product.care)
    if not notes:
        return None
    return f"这款{product.kind}：" + "；".join(notes)


_SIZE_IN_TEXT = re.compile(r"(?<![a-z])(xxxl|xxl|xl|xs|s|m|l|均码|\d{2,3})(?:码|号)?(?![a-z])")


def _sizes_asked(product: Product, norm: str, ent: Entities) -> list[str]:
    known = [r.size for r in product.size_chart] or sorted({s.size for s in product.skus if s.size})
    wanted = {ent.size.lower()} if ent.size else set()
    wanted |= {m.group(1) for m in _SIZE_IN_TEXT.finditer(norm)}
    return [s for s in known if s.lower() in wanted]


def _colours_asked(product: Product, norm: str, ent: Entities) -> list[str]:
    found = [c for c in product.colours if normalize(c) in norm]
    if found:
        return found
    if ent.colour:
        want = normalize(ent.colour).removesuffix("色")
        return [c for c in product.colours if want and (want in c or c.removesuffix("色") in want)]
    return []


def _stock(product: Product, norm: str, ent: Entities) -> str | None:
    if not product.skus:
        return None
    sizes = _sizes_asked(product, norm, ent)
    colours = _colours_asked(product, norm, ent)
    if not sizes and not colours:
        return None  # a general "有货吗": a FAQ may answer it
    skus = [
        s
        for s in product.skus
        if (not sizes or s.size in sizes) and (not colours or s.colour in colours)
    ]
    if not skus:
        return None
    in_stock = [s for s in skus if s.stock > 0]

    def label(s: Sku) -> str:
        return "".join(x for x in (s.colour, f"{s.size}码" if s.size else None) if x)

    if len(skus) == 1:
        s = skus[0]
        if s.stock == 0:
            return f"{label(s)}暂时没货了，" + (product.restock_note or "可以看看其他颜色或尺码")
        if s.stock <= 5:
            return f"{label(s)}还有货，只剩{s.stock}件了，喜欢的话尽快拍下"
        return f"{label(s)}有现货，付款后就能安排发货"
    if not in_stock:
        return "这几个规格暂时都没货了，" + (product.restock_note or "可以看看其他款式")
    have = "、".join(label(s) for s in in_stock)
    body = f"{have}有现货"
    sold_out = [label(s) for s in skus if s.stock == 0]
    if sold_out:
        body += f"；{'、'.join(sold_out)}暂时没货了"
    return body


def _promotions(kb: KnowledgeBase, now: datetime) -> str | None:
    active = kb.active_promotions(now)
    if not active:
        return None  # nothing to offer: a human may still decide to
    return "现在店铺的活动：" + "；".join(p.rule for p in active)


def _free_shipping(kb: KnowledgeBase, norm: str) -> str | None:
    s = kb.shipping
    if s is None:
        return None
    excluded = "、".join(s.excluded_regions)
    asked = [r for r in s.excluded_regions if normalize(r) in norm]
    if asked:
        fee = f"，需要补{replies.yuan(s.remote_fee)}运费" if s.remote_fee is not None else ""
        return f"{'、'.join(asked)}属于偏远地区，不在包邮范围内{fee}"
    base = "全国包邮" if s.free_shipping_threshold == 0 else (
        f"订单满{replies.yuan(s.free_shipping_threshold)}包邮"
        + (f"，不满收{replies.yuan(s.standard_fee)}运费" if s.standard_fee is not None else "")
    )  # fmt: skip
    if excluded:
        fee = f"，偏远地区补{replies.yuan(s.remote_fee)}" if s.remote_fee is not None else ""
        base += f"（{excluded}除外{fee}）"
    if s.ship_from and ("哪" in norm or "发货地" in norm):
        base += f"，从{s.ship_from}发货"
    return base


def _shipping_time(kb: KnowledgeBase) -> str | None:
    s = kb.shipping
    if s is None:
        return None
    body = f"付款后{s.ship_within_hours}小时内发货"
    if s.same_day_cutoff:
        body += f"，{s.same_day_cutoff}前付款当天就能发出"
    if s.transit_note:
        body += f"，{s.transit_note}"
    return body


_COURIER_WORDS = ("中通", "圆通", "韵达", "申通", "顺丰", "邮政", "ems", "京东", "极兔", "德邦")


def _courier(kb: KnowledgeBase, norm: str) -> str | None:
    s = kb.shipping
    if s is None:
        return None
    named = [w for w in _COURIER_WORDS if w in norm]
    upgrade = ""
    if s.courier_upgrade:
        fee = f"需补{replies.yuan(s.upgrade_fee)}差价，" if s.upgrade_fee else ""
        upgrade = f"需要{s.courier_upgrade}的话{fee}拍下后备注就可以"
    body = f"默认发{s.default_courier}"
    for word in named:
        match = next((c for c in s.couriers if normalize(c).startswith(word)), None)
        if match is None:
            body = f"暂时不能发{word}，{body}"
        elif s.courier_upgrade and match == s.courier_upgrade:
            return f"可以发{match}，{upgrade}"
        elif match != s.default_courier:
            return f"可以发{match}，拍下后备注一下就可以"
    if len(s.couriers) > 1:
        others = "、".join(c for c in s.couriers if c != s.default_courier)
        body += f"，也可以备注{others}"
    return f"{body}；{upgrade}" if upgrade else body


def _invoice(kb: KnowledgeBase, norm: str) -> str | None:
    inv = kb.invoice
    if inv is None:
        return None
    if not inv.supported:
        return "本店暂时不支持开具发票"
    kinds = "、".join(inv.kinds)
    if "专票" in norm or "专用发票" in norm:
        if not inv.special_vat:
            return f"暂时不支持开增值税专用发票，可以开{kinds}"
        kinds = "增值税专用发票"
    body = f"可以开{kinds}"
    for part in (inv.how, inv.when):
        if part:
            body += f"，{part}"
    return body


# -- text helpers --------------------------------------------------------------------------

_CLOSING = re.compile(r"谢|再见|拜拜|bye|88|没问题了|没有了|那我拍了|去拍|拍了|下单了|明白了")


def closes_chat(text: str) -> bool:
    """好的/嗯 just acknowledge; 谢谢/再见/那我拍了 end the chat and deserve a goodbye."""
    return bool(_CLOSING.search(normalize(text)))


def tone_of(kb: KnowledgeBase | None) -> ReplyTone:
    return kb.tone if kb else replies.DEFAULT_TONE
