"""The insight loop's pure parts: canonical text, grouping, ranking, drafting, keyword FAQs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.presale.domain.answers import Handoff, Memory, Reply, decide
from services.presale.domain.coverage import gap_reason, kb_answers, still_open
from services.presale.domain.kb import KnowledgeBase
from services.presale.domain.nlu import understand
from services.presale.domain.suggestions import (
    Gap,
    clean_answer,
    group,
    is_rejected,
    keywords,
    suggest,
)
from services.presale.domain.textsim import TfIdf, canonical, compact, cosine
from services.presale.kb.loading import read_file
from services.presale.nlu_loader import buyer_language

NOW = datetime(2026, 12, 1, 4, tzinfo=UTC)
DEMO = read_file(Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml")
DRESS = "60181234001"
GENUINE = "店里都是自家工厂生产的原创正品，支持验货，假一赔三"
STORE = "我们只在天猫开店，没有线下实体店"


def gap(n: int, text: str, answer: str | None, *, buyer: str | None = None,
        item: str | None = None, reason: str = "low_confidence") -> Gap:  # fmt: skip
    return Gap(f"g{n}", buyer or f"b{n}", text, "product_spec", reason, item, answer)


def test_canonical_drops_what_does_not_change_the_meaning() -> None:
    same = [
        "是正品吗",
        "亲 是正品吗?",
        "是正品嗎😊",
        "请问 是正品吗[微笑]",
        "是正品吗亲~~",
        "是正品呢",
    ]
    assert {canonical(t) for t in same} == {"是正品"}
    assert canonical("身高165体重110斤穿什么码") == canonical("身高170体重120斤穿神马码")
    assert compact("有 口袋 吗!") == "有口袋吗"
    assert canonical("") == ""


def test_variants_are_alike_and_other_questions_are_not() -> None:
    texts = ["是正品", "保证正品", "这个是不是正品", "有实体店", "线下有实体店", "什么时候发货"]
    model = TfIdf(texts)
    v = {t: model.vector(t) for t in texts}
    assert cosine(v["是正品"], v["这个是不是正品"]) > cosine(v["是正品"], v["有实体店"])
    assert cosine(v["有实体店"], v["线下有实体店"]) > 0.5
    assert cosine(v["是正品"], v["什么时候发货"]) < 0.1


def test_grouping_is_robust_to_wording_typos_and_particles() -> None:
    gaps = [
        gap(1, "是正品吗", GENUINE), gap(2, "亲 是正品吗?", "亲," + GENUINE + "哦~"),
        gap(3, "这个是不是正品", GENUINE), gap(4, "是正品的吧", None),
        gap(5, "有实体店吗", STORE), gap(6, "線下有實體店嗎", STORE), gap(7, "有实体店吗😊", None),
    ]  # fmt: skip
    groups = group(gaps)
    members = sorted(sorted(g.gap_id for g in grp.gaps) for grp in groups)
    assert members == [["g1", "g2", "g3", "g4"], ["g5", "g6", "g7"]]


def test_a_group_answered_differently_per_item_splits_by_item() -> None:
    pocket, none = "这款两侧有隐形插袋", "这款没有口袋"
    gaps = [gap(i, "有口袋吗", pocket, item=DRESS) for i in range(3)]
    gaps += [gap(10 + i, "有口袋吗", none, item="60281234002") for i in range(3)]
    groups = group(gaps)
    assert sorted(g.item_id or "" for g in groups) == sorted([DRESS, "60281234002"])


def test_clean_answer_drops_the_address_and_closing_particles() -> None:
    assert clean_answer("亲,每周五晚上8点上新哦~") == "每周五晚上8点上新"
    assert clean_answer("亲亲，可以的呢") == "可以的"
    assert clean_answer("好的亲,已经备注了") == "已经备注了"


def test_keywords_cover_the_group_and_avoid_other_questions() -> None:
    mine = ["是正品", "保证正品", "这个是不是正品", "正品有保障"]
    chosen = keywords(mine, others=["什么面料", "多久发货"])
    assert chosen == ("正品",)
    # a word other questions use (answered otherwise) is never a keyword
    assert "这个" not in keywords(["这个有口袋", "有口袋"], others=["这个多少钱", "这个什么面料"])


def test_suggest_ranks_by_buyers_then_handoffs_and_drafts_the_majority_answer() -> None:
    gaps = [gap(i, "是正品吗", GENUINE if i % 4 else "稍等我看一下") for i in range(8)]
    gaps += [gap(20 + i, "有实体店吗", STORE) for i in range(4)]
    gaps += [gap(40 + i, "有礼盒包装吗", "可以礼盒包装", buyer="same-buyer") for i in range(5)]
    drafts = suggest(gaps, answered_by_kb=lambda d: False)
    assert [d.answer for d in drafts] == [GENUINE, STORE]  # the one-buyer group is left out
    top = drafts[0]
    assert (top.buyers, top.asked, top.answer_share) == (8, 8, 0.75)
    assert top.keywords
    assert all(k in "是正品" for k in top.keywords)
    assert top.examples[0] == ("是正品吗", 8)


def test_inconsistent_answers_and_groups_the_kb_answers_are_left_out() -> None:
    mixed = [gap(i, "能便宜吗", f"回答{i}") for i in range(6)]
    assert suggest(mixed, answered_by_kb=lambda d: False) == []
    known = [gap(i, "是正品吗", GENUINE) for i in range(4)]
    assert suggest(known, answered_by_kb=lambda d: True) == []


def test_a_rejected_group_is_not_suggested_again_even_with_new_wordings() -> None:
    first = suggest([gap(i, "是正品吗", GENUINE) for i in range(4)], answered_by_kb=lambda d: False)
    rejected = [list(first[0].variants)]
    later = [gap(i, "是正品吗", GENUINE) for i in range(4)]
    later += [gap(10 + i, "是不是正品呀", GENUINE) for i in range(3)]
    assert suggest(later, answered_by_kb=lambda d: False, rejected=rejected) == []
    assert is_rejected(["是正品"], rejected)
    assert not is_rejected(["有实体店"], rejected)


def _with_faq(kb: KnowledgeBase, **faq: object) -> KnowledgeBase:
    doc = kb.model_dump(mode="json")
    doc["faqs"].append({"faq_id": "suggested-1", "intent": None, "match": "keywords", **faq})
    return KnowledgeBase.model_validate(doc)


def _decide(kb: KnowledgeBase, text: str, item: str | None = None) -> object:
    u = understand(text, [])
    return decide(u, text, Memory().heard(item, u.entities), kb, NOW)


def test_a_keyword_faq_answers_what_the_classifier_could_not_place() -> None:
    assert isinstance(_decide(DEMO, "有实体店吗"), Handoff)
    kb = _with_faq(DEMO, keywords=["实体店"], answer=STORE)
    reply = _decide(kb, "有 实体店 吗😊")
    assert isinstance(reply, Reply)
    assert STORE in reply.text
    assert reply.text.startswith("亲，")
    assert isinstance(_decide(kb, "有实体店吗 转人工"), Handoff)  # a human was asked for
    assert "全国包邮" in getattr(_decide(kb, "包邮吗"), "text", "")  # the rest is unchanged


def test_an_item_bound_keyword_faq_answers_only_for_its_item() -> None:
    kb = _with_faq(DEMO, keywords=["口袋"], answer="两侧有隐形插袋", item_id=DRESS)
    assert isinstance(_decide(kb, "有没有口袋", DRESS), Reply)
    assert isinstance(_decide(kb, "有没有口袋", "60281234002"), Handoff)


def test_gap_reason_and_what_is_still_open() -> None:
    u = understand("有实体店吗", [])
    assert gap_reason(u, _decide(DEMO, "有实体店吗")) == "low_confidence"  # type: ignore[arg-type]
    assert gap_reason(u, None) == "with_agent"
    assert gap_reason(understand("转人工", []), _decide(DEMO, "转人工")) is None  # type: ignore[arg-type]
    assert gap_reason(understand("你好", []), None) is None
    asked = [gap(1, "有实体店吗", STORE), gap(2, "包邮吗", "全国包邮", reason="with_agent")]
    assert [g.gap_id for g in still_open(DEMO, asked, NOW)] == ["g1"]  # the bot answers 包邮
    drafts = suggest(
        [gap(i, "有实体店吗", STORE) for i in range(3)], answered_by_kb=lambda d: False
    )
    assert not kb_answers(DEMO, drafts[0], NOW)
    assert kb_answers(_with_faq(DEMO, keywords=["实体"], answer=STORE), drafts[0], NOW)


def test_keywords_are_rare_in_buyers_language_and_not_product_names() -> None:
    common = ["多久发货", "多久能到", "多久到"] + [f"别的问题{i}" for i in range(400)]
    chosen = keywords(["多久上一次新", "多久上新"], others=[], common=common)
    assert chosen
    assert not any("多久" in k for k in chosen)
    gaps = [gap(i, "这款连衣裙有口袋吗", "两侧有隐形插袋", item=DRESS) for i in range(3)]
    (d,) = suggest(
        gaps, answered_by_kb=lambda d: False, background=["法式碎花雪纺连衣裙", "连衣裙"],
        common=buyer_language(),  # 这款 is in every other question
    )  # fmt: skip
    assert d.keywords
    assert not any(k in "法式碎花雪纺连衣裙" for k in d.keywords)
    assert any("口袋" in k or k in "口袋" for k in d.keywords)
