"""Planted gaps: questions buyers often ask that the demo KB (shop-demo.yaml) does not answer.

Every wording is one presale's classifier keeps in the presale stage (a wording it sends to
aftersale, e.g. 有没有礼盒 → quality_issue, would never reach presale's gaps at all).

Agents answer each one consistently (the same fact, in their own address and particles), so
presale's insight loop can learn it: the demo shows real suggestions, and the evaluation
(`tests/presale/unit/test_insight_eval.py`) checks they are found and drafted correctly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulator.catalog import Item


@dataclass(frozen=True)
class PlantedGap:
    key: str
    label: str
    """the intent a person labelling the message would give it"""
    questions: tuple[str, ...]
    answer: str
    """what agents say (the KB answer the suggestion should draft)"""
    kinds: tuple[str, ...] = ()
    """only asked about these kinds of item (empty: any)"""


PLANTED: tuple[PlantedGap, ...] = (
    PlantedGap(
        "pocket",
        "product_spec",
        ("这款{kind}有口袋吗", "有没有口袋", "裙子两边有兜吗", "有口袋吗 想放手机", "带不带口袋的"),
        "这款连衣裙两侧有隐形插袋，可以放手机和钥匙",
        ("连衣裙",),
    ),
    PlantedGap(
        "gift_box",
        "other",
        ("可以送人吗 有礼盒包装吗", "有礼盒包装吗", "送朋友的 能用礼盒装吗"),
        "可以的，下单备注“礼物”就用礼盒包装，包裹里不放价格单",
    ),
    PlantedGap(
        "genuine",
        "product_spec",
        ("是正品吗", "保证正品吗", "这个是不是正品", "正品有保障吗", "是正品的吧"),
        "店里都是自家工厂生产的原创正品，支持验货，假一赔三",
    ),
    PlantedGap(
        "store",
        "other",
        ("有实体店吗", "线下有实体店吗", "你们实体店在哪里", "有没有实体店可以试穿"),
        "我们只在天猫开店，没有线下实体店，收到不合适支持七天无理由退换",
    ),
    PlantedGap(
        "new_arrivals",
        "other",
        ("多久上一次新", "下次上新是什么时候", "最近还上新款吗", "上新一般是周几"),
        "每周五晚上8点上新，关注店铺就能收到上新提醒",
    ),
)
BY_KEY = {g.key: g for g in PLANTED}
_ADDRESS = ("亲,", "亲,", "亲亲,", "亲~ ", "")
_ENDING = ("哦~", "哦", "呢", "~", "")


def applies(gap: PlantedGap, item: Item) -> bool:
    return not gap.kinds or item.kind in gap.kinds


def pick(rng: random.Random, item: Item) -> PlantedGap:
    """A planted gap that fits the item; one about this kind of item is asked most often."""
    own = [g for g in PLANTED if g.kinds and item.kind in g.kinds]
    if own and rng.random() < 0.7:
        return rng.choice(own)
    return rng.choice([g for g in PLANTED if not g.kinds])


def question(gap: PlantedGap, rng: random.Random, item: Item) -> str:
    return rng.choice(gap.questions).format(kind=item.kind)


def agent_answer(gap: PlantedGap, rng: random.Random) -> str:
    """The planted answer in an agent's own words: address and particles vary, the fact not."""
    return f"{rng.choice(_ADDRESS)}{gap.answer}{rng.choice(_ENDING)}"
