"""Answers about a product from the KB (bodies without the tone's address; None = the KB has
no answer): size advice from the size chart and the buyer's height and weight, specs, usage,
stock of the sizes and colours asked. Pure."""

from __future__ import annotations

import re
from dataclasses import replace

from services.presale.domain import replies
from services.presale.domain.decisions import Memory, Reply
from services.presale.domain.kb import Product, Sku
from services.presale.domain.sizing import advise, kg_to_jin
from services.presale.domain.textsim import normalize
from shared.contracts import Entities


def size_advice(product: Product, memory: Memory, norm: str) -> Reply | None:
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


def spec(product: Product, norm: str) -> str | None:
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


def usage(product: Product) -> str | None:
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


def stock(product: Product, norm: str, ent: Entities) -> str | None:
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
